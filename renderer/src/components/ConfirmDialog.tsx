// Asked before a chain change drops writes that exist nowhere else (a cow overlay). A modal in
// the keyboard's terms too: it takes the focus when it opens (on "Keep", the safe answer),
// Tab and Shift+Tab cycle inside it, Escape keeps the writes, and the focus goes back where
// it was when it closes.
import { useEffect, useRef } from 'react';
import { applyChain } from '../app/actions.ts';
import { useApp } from '../store/store.ts';

export function ConfirmDialog() {
  const pending = useApp((s) => s.confirmation);
  const dismiss = useApp((s) => s.askConfirmation);
  const dialog = useRef<HTMLDivElement>(null);
  const keep = useRef<HTMLButtonElement>(null);
  const open = pending !== null;

  useEffect(() => {
    if (!open) return;
    const before = document.activeElement as HTMLElement | null;
    keep.current?.focus();
    // On the window, ahead of everything: wherever the focus is, the keys belong to the dialog.
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        dismiss(null);
      } else if (e.key === 'Tab') {
        trapTab(e, dialog.current);
      }
      // The window's shortcuts (zoom, serve, close) do not reach past a modal; a button's own
      // Enter and Space still work (they are default actions, not listeners).
      e.stopPropagation();
    };
    window.addEventListener('keydown', onKey, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      before?.focus?.();
    };
  }, [open, dismiss]);

  if (!pending) return null;
  const names = pending.filters.join(', ') || 'a filter';
  return (
    <div className="scrim" role="presentation" onClick={() => dismiss(null)}>
      <div
        ref={dialog}
        className="dialog"
        role="alertdialog"
        aria-modal
        aria-labelledby="confirm-title"
        aria-describedby="confirm-text"
        data-testid="confirm-dialog"
        onClick={(e) => e.stopPropagation()}
      >
        <h3 id="confirm-title">Discard unsaved writes?</h3>
        <p id="confirm-text" className="muted" style={{ margin: 0 }}>
          <b>{names}</b> holds writes that exist nowhere else. Switching it off discards them for new connections; clients that are connected now keep their chain until they disconnect.
        </p>
        <div className="actions">
          <button ref={keep} className="btn" onClick={() => dismiss(null)}>
            Keep
          </button>
          <button className="btn danger" data-testid="confirm-discard" onClick={() => void applyChain(pending.imageId, pending.config, { force: true })}>
            Discard writes
          </button>
        </div>
      </div>
    </div>
  );
}

/** Keeps Tab inside `root`: from its last control to its first, and Shift+Tab the other way. */
function trapTab(e: KeyboardEvent, root: HTMLElement | null): void {
  if (!root) return;
  const controls = [...root.querySelectorAll<HTMLElement>('button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])')].filter(
    (el) => !el.hasAttribute('disabled'),
  );
  if (controls.length === 0) return;
  const first = controls[0]!;
  const last = controls[controls.length - 1]!;
  const at = document.activeElement;
  if (e.shiftKey && (at === first || !root.contains(at))) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && (at === last || !root.contains(at))) {
    e.preventDefault();
    first.focus();
  }
}
