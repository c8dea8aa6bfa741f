// The application menu, from the command table in shared/commands.ts: an item shows its
// command's first key and, when chosen, sends the command id to the window (app.command), which
// runs it exactly as the key does. The window's own key handler answers the keys, so on Linux
// and Windows the accelerators are displayed but not registered: a plain "0" or "+" typed into
// a text field stays in the field. macOS registers every accelerator it is given, so there
// the menu shows only the Mod shortcuts.
import type { MenuItemConstructorOptions } from 'electron';
import { acceleratorOf, commandById, type CommandId } from '../../../shared/commands.ts';

export interface MenuHost {
  mac: boolean;
  /** Packaged apps have no developer tools item. */
  packaged: boolean;
  /** Sends a command to the window. */
  send(command: CommandId): void;
}

const separator: MenuItemConstructorOptions = { type: 'separator' };

export function commandItem(id: CommandId, host: MenuHost): MenuItemConstructorOptions {
  const { label, keys } = commandById(id);
  const key = keys[0];
  const shown = key && (key.mod || !host.mac) ? { accelerator: acceleratorOf(key), registerAccelerator: false } : {};
  return { id, label, ...shown, click: () => host.send(id) };
}

export function menuTemplate(host: MenuHost): MenuItemConstructorOptions[] {
  const item = (id: CommandId) => commandItem(id, host);
  return [
    ...(host.mac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        item('open'),
        item('open-uri'),
        item('open-demo'),
        separator,
        item('export-map'),
        separator,
        item('close'),
        ...(host.mac ? [] : [separator, { role: 'quit' as const, accelerator: 'CmdOrCtrl+Q' }]),
      ],
    },
    { label: '&Serve', submenu: [item('serve'), item('stop-serving')] },
    {
      label: '&View',
      submenu: [
        item('zoom-in'),
        item('zoom-out'),
        item('zoom-reset'),
        separator,
        { role: 'togglefullscreen' },
        ...(host.packaged ? [] : [{ role: 'toggleDevTools' as const }]),
      ],
    },
    { role: 'windowMenu' },
  ];
}
