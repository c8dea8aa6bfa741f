import { describe, expect, it } from 'vitest';
import { commandFor, type KeyLike } from './shortcuts.ts';

const key = (k: string, mods: Partial<KeyLike> = {}): KeyLike => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });

describe('commandFor', () => {
  it('opens with Ctrl+O on Linux and Cmd+O on macOS', () => {
    expect(commandFor(key('o', { ctrlKey: true }), false, false)).toBe('open');
    expect(commandFor(key('o', { metaKey: true }), true, false)).toBe('open');
    expect(commandFor(key('o', { ctrlKey: true }), true, false)).toBeNull();
  });

  it('zooms with + and - outside text fields only', () => {
    expect(commandFor(key('+'), false, false)).toBe('zoom-in');
    expect(commandFor(key('-'), false, false)).toBe('zoom-out');
    expect(commandFor(key('+'), false, true)).toBeNull();
  });

  it('keeps Mod shortcuts working inside text fields', () => {
    expect(commandFor(key('w', { ctrlKey: true }), false, true)).toBe('close');
  });

  it('goes back a tab with Mod+Shift+Tab', () => {
    expect(commandFor(key('Tab', { ctrlKey: true, shiftKey: true }), false, false)).toBe('previous-tab');
  });
});
