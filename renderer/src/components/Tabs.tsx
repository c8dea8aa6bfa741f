// One tab per open image; a green dot marks images being served. Many tabs shrink (titles cut
// with an ellipsis, the whole name in the tooltip) and then scroll, never widening the window;
// the active one is scrolled into view.
import { useEffect, useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { closeImage } from '../app/actions.ts';
import { selectImageIds, selectTabLabel } from '../store/selectors.ts';
import { exportOf } from '../store/server-slice.ts';
import { useApp } from '../store/store.ts';

export function Tabs() {
  const ids = useApp(useShallow(selectImageIds));
  return (
    <nav className="tabs" role="tablist" aria-label="Open images">
      {ids.length === 0 && <span className="tabs-empty">No image open</span>}
      {ids.map((id) => (
        <Tab key={id} imageId={id} />
      ))}
    </nav>
  );
}

function Tab({ imageId }: { imageId: string }) {
  const { title, tip } = useApp(useShallow((s) => selectTabLabel(s, imageId)));
  const active = useApp((s) => s.activeId === imageId);
  const serving = useApp((s) => !!exportOf(s.status, imageId));
  const setActive = useApp((s) => s.setActive);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (active) ref.current?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
  }, [active]);
  return (
    <div
      ref={ref}
      role="tab"
      tabIndex={0}
      aria-selected={active}
      className={`tab${active ? ' active' : ''}`}
      title={tip}
      data-testid="image-tab"
      onClick={() => setActive(imageId)}
      onAuxClick={(e) => e.button === 1 && void closeImage(imageId)}
      onKeyDown={(e) => e.key === 'Enter' && setActive(imageId)}
    >
      <span className={`dot${serving ? ' serving' : ''}`} />
      <span className="tab-title">{title}</span>
      <button
        className="close"
        aria-label={`Close ${title}`}
        onClick={(e) => {
          e.stopPropagation();
          void closeImage(imageId);
        }}
      >
        ×
      </button>
    </div>
  );
}
