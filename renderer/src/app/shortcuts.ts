// Keyboard shortcuts, as a pure key -> command table so they are testable and listed once
// (the status bar's help shows the same table). Mod is Ctrl, or Cmd on macOS.
import type { AppCommand } from '../../../shared/ipc.ts';

export type Command = AppCommand | 'pan-left' | 'pan-right' | 'next-tab' | 'previous-tab' | 'open-demo';

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

export const SHORTCUTS: { keys: string; command: Command; what: string }[] = [
  { keys: 'Mod+O', command: 'open', what: 'open an image' },
  { keys: 'Mod+L', command: 'open-uri', what: 'type a path or nbd:// URI' },
  { keys: 'Mod+W', command: 'close', what: 'close the image' },
  { keys: 'Mod+Enter', command: 'serve', what: 'start / stop serving' },
  { keys: 'Mod+E', command: 'export-map', what: 'export the map (nbdinfo JSON)' },
  { keys: '+ / −', command: 'zoom-in', what: 'zoom' },
  { keys: '0', command: 'zoom-reset', what: 'whole disk' },
  { keys: '← / →', command: 'pan-left', what: 'pan' },
  { keys: 'Mod+Tab', command: 'next-tab', what: 'next image' },
];

/** The command for a key press, or null. `inField`: typing in an input (only Mod keys count). */
export function commandFor(e: KeyLike, mac: boolean, inField: boolean): Command | null {
  const mod = mac ? e.metaKey : e.ctrlKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (mod && !e.altKey) {
    if (key === 'o') return 'open';
    if (key === 'l') return 'open-uri';
    if (key === 'w') return 'close';
    if (key === 'Enter') return 'serve';
    if (key === 'e') return 'export-map';
    if (key === 'Tab') return e.shiftKey ? 'previous-tab' : 'next-tab';
    if (key === 'PageDown') return 'next-tab';
    if (key === 'PageUp') return 'previous-tab';
    return null;
  }
  if (inField || e.altKey || e.ctrlKey || e.metaKey) return null;
  switch (key) {
    case '+':
    case '=':
      return 'zoom-in';
    case '-':
    case '_':
      return 'zoom-out';
    case '0':
    case 'Home':
      return 'zoom-reset';
    case 'ArrowLeft':
      return 'pan-left';
    case 'ArrowRight':
      return 'pan-right';
    default:
      return null;
  }
}
