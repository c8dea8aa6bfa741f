// The window's keyboard shortcuts. Keys resolve through the command table in shared/commands.ts,
// the same table the Electron menu takes its accelerators from and the UI its hints; this file
// only knows the platform and what counts as typing.
import { commandFor, type CommandId } from '../../../shared/commands.ts';

export { commandFor, type KeyLike } from '../../../shared/commands.ts';

/** Mod is Cmd on macOS, Ctrl elsewhere. */
export function isMac(): boolean {
  return /Mac|iPhone|iPad/.test(navigator.platform);
}

/** Typing in a field: plain keys belong to the field, only Mod shortcuts count. */
function isTextField(target: EventTarget | null): boolean {
  const tag = (target as HTMLElement | null)?.tagName;
  return tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA';
}

/** Enter on a button, link or other focused control presses it: it is not a shortcut there. */
function isPressable(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && el !== document.body && el.tagName !== 'CANVAS' && (el.tagName === 'BUTTON' || el.tagName === 'A' || el.hasAttribute('role') || el.tabIndex >= 0);
}

/** The command a key event runs in this window, or null. */
export function commandOfKeyEvent(e: KeyboardEvent): CommandId | null {
  if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey && isPressable(e.target)) return null;
  return commandFor(e, isMac(), isTextField(e.target));
}
