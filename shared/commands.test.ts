import { describe, expect, it } from 'vitest';
import { COMMANDS, acceleratorOf, commandEnabled, commandFor, isCommandId, keyCaps, shortcutText, type KeyBinding, type KeyLike } from './commands.ts';

/** The key event a binding describes, as Linux (mac: false) or macOS reports it. */
function eventOf(b: KeyBinding, mac: boolean): KeyLike {
  return { key: b.key, ctrlKey: !!b.mod && !mac, metaKey: !!b.mod && mac, shiftKey: b.shift === true, altKey: false };
}

describe('the command table', () => {
  it('runs each command from each of its keys, on Linux and on macOS', () => {
    for (const c of COMMANDS) {
      for (const b of c.keys) {
        expect(commandFor(eventOf(b, false), false, false)).toBe(c.id);
        expect(commandFor(eventOf(b, true), true, false)).toBe(c.id);
      }
    }
  });

  it('gives no key to two commands', () => {
    const seen = COMMANDS.flatMap((c) => c.keys.map((b) => `${b.mod ?? ''}:${b.shift ?? '*'}:${b.key}`));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('keeps plain keys for typing inside text fields, Mod keys working there', () => {
    expect(commandFor({ key: '0', ctrlKey: false, metaKey: false, shiftKey: false, altKey: false }, false, true)).toBeNull();
    expect(commandFor({ key: 'Enter', ctrlKey: true, metaKey: false, shiftKey: false, altKey: false }, false, true)).toBe('serve');
  });

  it('ignores Alt and the other platform’s modifier', () => {
    expect(commandFor({ key: 'o', ctrlKey: true, metaKey: false, shiftKey: false, altKey: true }, false, false)).toBeNull();
    expect(commandFor({ key: '+', ctrlKey: false, metaKey: true, shiftKey: false, altKey: false }, false, false)).toBeNull();
  });

  it('needs an image for the commands marked so', () => {
    expect(commandEnabled('open', { hasImage: false })).toBe(true);
    expect(commandEnabled('close', { hasImage: false })).toBe(false);
    expect(commandEnabled('close', { hasImage: true })).toBe(true);
  });

  it('accepts only its own ids from the menu channel', () => {
    expect(isCommandId('zoom-in')).toBe(true);
    expect(isCommandId('format-disk')).toBe(false);
    expect(isCommandId(7)).toBe(false);
  });
});

describe('showing keys', () => {
  it('names them as Electron accelerators', () => {
    expect(acceleratorOf({ key: 'o', mod: true })).toBe('CmdOrCtrl+O');
    expect(acceleratorOf({ key: 'Tab', mod: true, shift: true })).toBe('CmdOrCtrl+Shift+Tab');
    expect(acceleratorOf({ key: '+' })).toBe('Plus');
    expect(acceleratorOf({ key: 'ArrowLeft' })).toBe('Left');
  });

  it('prints key caps per platform', () => {
    expect(keyCaps({ key: 'Enter', mod: true }, false)).toEqual(['Ctrl', '↵']);
    expect(keyCaps({ key: 'Enter', mod: true }, true)).toEqual(['⌘', '↵']);
    expect(shortcutText('zoom-out', false)).toBe('−');
    expect(shortcutText('open', false)).toBe('Ctrl+O');
    expect(shortcutText('stop-serving', false)).toBe('');
  });
});
