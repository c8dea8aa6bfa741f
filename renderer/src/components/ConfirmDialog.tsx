// Asked before a chain change drops writes that exist nowhere else (a cow overlay).
import { applyChain } from '../app/actions.ts';
import { useApp } from '../store/store.ts';

export function ConfirmDialog() {
  const pending = useApp((s) => s.confirmation);
  const dismiss = useApp((s) => s.askConfirmation);
  if (!pending) return null;
  const names = pending.filters.join(', ') || 'a filter';
  return (
    <div className="scrim" role="presentation" onClick={() => dismiss(null)}>
      <div className="dialog" role="alertdialog" aria-modal aria-labelledby="confirm-title" data-testid="confirm-dialog" onClick={(e) => e.stopPropagation()}>
        <h3 id="confirm-title">Discard unsaved writes?</h3>
        <p className="muted" style={{ margin: 0 }}>
          <b>{names}</b> holds writes that exist nowhere else. Switching it off discards them for new connections; clients that are connected now keep their chain until they disconnect.
        </p>
        <div className="actions">
          <button className="btn" autoFocus onClick={() => dismiss(null)}>
            Keep
          </button>
          <button className="btn danger" data-testid="confirm-discard" onClick={() => void applyChain(pending.imageId, pending.config, true)}>
            Discard writes
          </button>
        </div>
      </div>
    </div>
  );
}
