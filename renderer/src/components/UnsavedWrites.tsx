// The "unsaved writes" spot of a filter card: a cow overlay (or any filter the engine names in
// ChainState.unsavedFilters) holds writes that exist nowhere else. What to do about them
// belongs here, beside the warning: cow's can be committed to a file or discarded.
import { OverlayActions } from './OverlayActions.tsx';

export function UnsavedWrites({ filter }: { filter: string }) {
  return (
    <>
      <span className="pill" style={{ color: 'var(--warn)', marginRight: 6 }} title="Holds writes that exist nowhere else" data-testid={`unsaved-${filter}`}>
        unsaved writes
      </span>
      {filter === 'cow' && <OverlayActions />}
    </>
  );
}
