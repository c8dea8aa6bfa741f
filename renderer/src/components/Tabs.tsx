// One tab per open image; a green dot marks images being served.
import { closeImage } from '../app/actions.ts';
import { exportOf } from '../store/server-slice.ts';
import { useApp } from '../store/store.ts';

export function Tabs() {
  const images = useApp((s) => s.images);
  const activeId = useApp((s) => s.activeId);
  const setActive = useApp((s) => s.setActive);
  const status = useApp((s) => s.status);
  return (
    <nav className="tabs" role="tablist" aria-label="Open images">
      {images.length === 0 && <span className="tabs-empty">No image open</span>}
      {images.map((img) => (
        <div
          key={img.id}
          role="tab"
          tabIndex={0}
          aria-selected={img.id === activeId}
          className={`tab${img.id === activeId ? ' active' : ''}`}
          title={img.path ?? img.uri ?? img.title}
          data-testid="image-tab"
          onClick={() => setActive(img.id)}
          onAuxClick={(e) => e.button === 1 && void closeImage(img.id)}
          onKeyDown={(e) => e.key === 'Enter' && setActive(img.id)}
        >
          <span className={`dot${exportOf(status, img.id) ? ' serving' : ''}`} />
          {img.title}
          <button
            className="close"
            aria-label={`Close ${img.title}`}
            onClick={(e) => {
              e.stopPropagation();
              void closeImage(img.id);
            }}
          >
            ×
          </button>
        </div>
      ))}
    </nav>
  );
}
