// Every command of the window, once: its menu label, the keys that run it, and whether it needs
// an open image. The renderer's key handler, the shortcut hints in the UI and the Electron menu
// all read this table, so a key the menu shows is the key the window answers to. Pure data and
// pure helpers: no DOM, no Node.

export type CommandId =
  | 'open'
  | 'open-uri'
  | 'open-demo'
  | 'close'
  | 'serve'
  | 'stop-serving'
  | 'export-map'
  | 'zoom-in'
  | 'zoom-out'
  | 'zoom-reset'
  | 'pan-left'
  | 'pan-right'
  | 'open-bytes'
  | 'next-tab'
  | 'previous-tab';

/** One key that runs a command. */
export interface KeyBinding {
  /** KeyboardEvent.key, letters in lower case: 'o', '+', 'Enter', 'ArrowLeft'. */
  key: string;
  /** Ctrl, or Cmd on macOS. A key without Mod works only outside text fields. */
  mod?: true;
  /** Shift must be down (true) or up (false); absent: either. */
  shift?: boolean;
}

/** 'image': the command does nothing while no image is open. */
export type CommandWhen = 'always' | 'image';

export interface CommandSpec {
  id: CommandId;
  /** As the menu names it. */
  label: string;
  /** The first is the one menus and hints show. */
  keys: readonly KeyBinding[];
  when: CommandWhen;
}

const mod = (key: string, shift?: boolean): KeyBinding => (shift === undefined ? { key, mod: true } : { key, mod: true, shift });
const plain = (key: string): KeyBinding => ({ key });

export const COMMANDS: readonly CommandSpec[] = [
  { id: 'open', label: 'Open Image…', keys: [mod('o')], when: 'always' },
  { id: 'open-uri', label: 'Open NBD URI…', keys: [mod('l')], when: 'always' },
  { id: 'open-demo', label: 'Open Demo Image', keys: [], when: 'always' },
  { id: 'close', label: 'Close Image', keys: [mod('w')], when: 'image' },
  // Starts serving, or stops when the image is being served.
  { id: 'serve', label: 'Start Serving', keys: [mod('Enter')], when: 'image' },
  { id: 'stop-serving', label: 'Stop Serving', keys: [], when: 'image' },
  { id: 'export-map', label: 'Export Map…', keys: [mod('e')], when: 'image' },
  { id: 'zoom-in', label: 'Zoom In', keys: [plain('+'), plain('=')], when: 'image' },
  { id: 'zoom-out', label: 'Zoom Out', keys: [plain('-'), plain('_')], when: 'image' },
  { id: 'zoom-reset', label: 'Whole Disk', keys: [plain('0'), plain('Home')], when: 'image' },
  { id: 'pan-left', label: 'Pan Left', keys: [plain('ArrowLeft')], when: 'image' },
  { id: 'pan-right', label: 'Pan Right', keys: [plain('ArrowRight')], when: 'image' },
  // The bytes of the block under the pointer on the map, as a click would show them.
  { id: 'open-bytes', label: 'Show Bytes Under Pointer', keys: [plain('Enter')], when: 'image' },
  { id: 'next-tab', label: 'Next Image', keys: [mod('Tab', false), mod('PageDown')], when: 'always' },
  { id: 'previous-tab', label: 'Previous Image', keys: [mod('Tab', true), mod('PageUp')], when: 'always' },
];

const byId = new Map(COMMANDS.map((c) => [c.id, c]));

export function commandById(id: CommandId): CommandSpec {
  return byId.get(id)!;
}

/** Menu events cross a process boundary: check the id before running it. */
export function isCommandId(value: unknown): value is CommandId {
  return typeof value === 'string' && byId.has(value as CommandId);
}

export function commandEnabled(id: CommandId, context: { hasImage: boolean }): boolean {
  return commandById(id).when === 'always' || context.hasImage;
}

/** The parts of a key event a shortcut looks at. */
export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

/**
 * The command a key press runs, or null. `mac`: Mod is Cmd, not Ctrl. `inField`: the user is
 * typing in an input, where only Mod keys count. Alt never combines with a shortcut.
 */
export function commandFor(e: KeyLike, mac: boolean, inField: boolean): CommandId | null {
  const isMod = mac ? e.metaKey : e.ctrlKey;
  if (e.altKey) return null;
  if (!isMod && (inField || e.ctrlKey || e.metaKey)) return null;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  for (const c of COMMANDS) {
    for (const b of c.keys) {
      if (b.key === key && !!b.mod === isMod && (b.shift === undefined || b.shift === e.shiftKey)) return c.id;
    }
  }
  return null;
}

/** Electron's names for keys whose KeyboardEvent.key differs. */
const ACCELERATOR_KEYS: Record<string, string> = { '+': 'Plus', ArrowLeft: 'Left', ArrowRight: 'Right', ArrowUp: 'Up', ArrowDown: 'Down', ' ': 'Space' };

/** The binding as an Electron accelerator: 'CmdOrCtrl+O', 'Plus', 'CmdOrCtrl+Shift+Tab'. */
export function acceleratorOf(b: KeyBinding): string {
  const key = ACCELERATOR_KEYS[b.key] ?? (b.key.length === 1 ? b.key.toUpperCase() : b.key);
  return [b.mod ? 'CmdOrCtrl' : '', b.shift ? 'Shift' : '', key].filter(Boolean).join('+');
}

/** How the window prints keys on key caps. */
const KEY_CAPS: Record<string, string> = { '-': '−', Enter: '↵', ArrowLeft: '←', ArrowRight: '→', PageUp: 'PgUp', PageDown: 'PgDn' };

/** The key caps of a binding, modifiers first: ['Ctrl', 'O'], ['⌘', '↵'], ['+']. */
export function keyCaps(b: KeyBinding, mac: boolean): string[] {
  const caps: string[] = [];
  if (b.mod) caps.push(mac ? '⌘' : 'Ctrl');
  if (b.shift) caps.push(mac ? '⇧' : 'Shift');
  caps.push(KEY_CAPS[b.key] ?? (b.key.length === 1 ? b.key.toUpperCase() : b.key));
  return caps;
}

/** The shown shortcut of a command as text ('Ctrl+O', '+'), or '' when it has no key. */
export function shortcutText(id: CommandId, mac: boolean): string {
  const first = commandById(id).keys[0];
  return first ? keyCaps(first, mac).join('+') : '';
}
