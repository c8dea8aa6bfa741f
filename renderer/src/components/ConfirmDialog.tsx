// The app's yes/no questions: a chain change that drops writes existing nowhere else (a cow
// overlay), and the store's other questions (stop serving with clients connected, discard the
// overlay, replace a file). A modal in the keyboard's terms too: it takes the focus when it
// opens (on the safe answer), Tab and Shift+Tab cycle inside it, Escape takes the safe
// answer, and the focus goes back where it was when it closes.
import { useEffect, useRef, type ReactNode, type RefObject } from 'react';
import { applyChain } from '../app/actions.ts';
import { useApp } from '../store/store.ts';

export function ConfirmDialog() {
  const pending = useApp((s) => s.confirmation);
  const question = useApp((s) => s.question);
  const dismissChain = useApp((s) => s.askConfirmation);
  const askQuestion = useApp((s) => s.askQuestion);
  if (question) {
    const yes = () => {
      askQuestion(null);
      question.confirm();
    };
    return <Modal key={question.title} title={question.title} confirmLabel={question.confirmLabel} confirmTestId="confirm-yes" onKeep={() => askQuestion(null)} onConfirm={yes}>{question.text}</Modal>;
  }
  if (!pending) return null;
  const names = pending.filters.join(', ') || 'a filter';
  return (
    <Modal title="Discard unsaved writes?" confirmLabel="Discard writes" confirmTestId="confirm-discard" onKeep={() => dismissChain(null)} onConfirm={() => void applyChain(pending.imageId, pending.config, { force: true })}>
      <b>{names}</b> holds writes that exist nowhere else. Switching it off discards them for new connections; clients that are connected now keep their chain until they disconnect.
    </Modal>
  );
}

interface ModalProps {
  title: string;
  confirmLabel: string;
  confirmTestId: string;
  onKeep(): void;
  onConfirm(): void;
  children: ReactNode;
}

function Modal({ title, confirmLabel, confirmTestId, onKeep, onConfirm, children }: ModalProps) {
  const dialog = useRef<HTMLDivElement>(null);
  const keep = useRef<HTMLButtonElement>(null);
  useModalKeys(dialog, keep, onKeep);
  return (
    <div className="scrim" role="presentation" onClick={onKeep}>
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
        <h3 id="confirm-title">{title}</h3>
        <p id="confirm-text" className="muted" style={{ margin: 0 }} data-testid="confirm-text">
          {children}
        </p>
        <div className="actions">
          <button ref={keep} className="btn" onClick={onKeep}>
            Keep
          </button>
          <button className="btn danger" data-testid={confirmTestId} onClick={onConfirm}>
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}

/**
 * While the modal is mounted: focus on the safe answer, keys kept inside it, Escape answers
 * `onKeep`, and the focus restored on unmount.
 */
function useModalKeys(dialog: RefObject<HTMLDivElement | null>, keep: RefObject<HTMLButtonElement | null>, onKeep: () => void): void {
  // The latest callback, without re-running the effect (that would move the focus back on every render).
  const keepNow = useRef(onKeep);
  keepNow.current = onKeep;
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    keep.current?.focus();
    // On the window, ahead of everything: wherever the focus is, the keys belong to the dialog.
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        keepNow.current();
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
  }, [dialog, keep]);
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
