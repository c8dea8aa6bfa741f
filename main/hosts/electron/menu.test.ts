import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandFor, type CommandId, type KeyLike } from '../../../shared/commands.ts';
import { menuTemplate, type MenuHost } from './menu.ts';

/** Every item of the template that runs a command, with the id its click sends. */
function commandItems(host: Omit<MenuHost, 'send'>): { item: MenuItemConstructorOptions; sent: CommandId }[] {
  let sent: CommandId | null = null;
  const template = menuTemplate({ ...host, send: (id) => (sent = id) });
  const items = template.flatMap((m) => (Array.isArray(m.submenu) ? m.submenu : []));
  return items
    .filter((item) => item.click)
    .map((item) => {
      sent = null;
      (item.click as () => void)();
      return { item, sent: sent! };
    });
}

/** What Linux reports when the accelerator's keys are pressed (the oracle, written out). */
function pressed(accelerator: string): KeyLike {
  const parts = accelerator.split('+');
  const name = parts[parts.length - 1]!;
  const keys: Record<string, string> = { Plus: '+', Left: 'ArrowLeft', Right: 'ArrowRight', Enter: 'Enter', Tab: 'Tab', Home: 'Home', PageUp: 'PageUp', PageDown: 'PageDown' };
  return {
    key: keys[name] ?? name.toLowerCase(),
    ctrlKey: parts.includes('CmdOrCtrl'),
    metaKey: false,
    shiftKey: parts.includes('Shift'),
    altKey: false,
  };
}

describe('the Electron menu', () => {
  const linux = commandItems({ mac: false, packaged: true });

  it('labels each item as the command table does and sends its id', () => {
    for (const { item, sent } of linux) {
      expect(item.id).toBe(sent);
      expect(item.label).toBe(COMMANDS.find((c) => c.id === sent)!.label);
    }
    expect(linux.map((x) => x.sent)).toEqual(['open', 'open-uri', 'open-demo', 'export-map', 'close', 'serve', 'stop-serving', 'zoom-in', 'zoom-out', 'zoom-reset']);
  });

  it('shows the accelerators the renderer answers to: each one, pressed, runs the item’s command', () => {
    for (const { item, sent } of linux) {
      const keys = COMMANDS.find((c) => c.id === sent)!.keys;
      if (keys.length === 0) {
        expect(item.accelerator).toBeUndefined();
        continue;
      }
      expect(commandFor(pressed(String(item.accelerator)), false, false)).toBe(sent);
    }
  });

  it('shows exactly these accelerators on Linux and Windows, for the window to handle', () => {
    const shown = Object.fromEntries(linux.filter((x) => x.item.accelerator).map((x) => [x.sent, x.item.accelerator]));
    expect(shown).toEqual({
      open: 'CmdOrCtrl+O',
      'open-uri': 'CmdOrCtrl+L',
      'export-map': 'CmdOrCtrl+E',
      close: 'CmdOrCtrl+W',
      serve: 'CmdOrCtrl+Enter',
      'zoom-in': 'Plus',
      'zoom-out': '-',
      'zoom-reset': '0',
    });
    expect(linux.filter((x) => x.item.accelerator).every((x) => x.item.registerAccelerator === false)).toBe(true);
  });

  it('leaves plain keys out on macOS, where every accelerator would be registered', () => {
    const mac = commandItems({ mac: true, packaged: true });
    const shown = mac.filter((x) => x.item.accelerator).map((x) => x.sent);
    expect(shown).toEqual(['open', 'open-uri', 'export-map', 'close', 'serve']);
  });
});
