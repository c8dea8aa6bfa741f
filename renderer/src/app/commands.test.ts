import { beforeEach, describe, expect, it } from 'vitest';
import * as table from '../../../shared/commands.ts';
import type { ImageSummary } from '../../../shared/ipc.ts';
import { useApp } from '../store/store.ts';
import { runCommand, type CommandEnv } from './commands.ts';
import { commandFor } from './shortcuts.ts';

const MiB = 2 ** 20;

function image(id: string): ImageSummary {
  return {
    id, title: id, demo: false, format: 'raw', size: 64 * MiB, onDiskSize: 0,
    chain: { plugin: { name: 'file', params: {} }, filters: [] }, chainLabel: 'file',
    partitionScheme: 'none', partitions: [], warnings: [],
    totals: { data: 0, zero: 0, hole: 64 * MiB, holeUndefined: 0, unknown: 0 },
    scan: { done: 64 * MiB, total: 64 * MiB, complete: true },
  };
}

function env(): CommandEnv & { focused: number } {
  const e = { nativeDialogs: false, focused: 0, focusOpenField: () => void e.focused++ };
  return e;
}

beforeEach(() => {
  useApp.setState({ images: [], activeId: null, views: {}, error: null });
});

describe('the renderer’s keys', () => {
  it('are the command table’s: the key handler resolves through shared/commands.ts', () => {
    expect(commandFor).toBe(table.commandFor);
  });
});

describe('runCommand', () => {
  it('focuses the open field for "open" when the host has no native dialogs', () => {
    const e = env();
    runCommand('open', e);
    runCommand('open-uri', e);
    expect(e.focused).toBe(2);
  });

  it('does nothing to the map without an image', () => {
    runCommand('zoom-in', env());
    expect(useApp.getState().views).toEqual({});
  });

  it('zooms, pans and resets the active image’s view', () => {
    useApp.getState().upsertImage(image('a'));
    runCommand('zoom-in', env());
    expect(useApp.getState().viewOf('a')).toEqual({ start: 16 * MiB, end: 48 * MiB });
    runCommand('pan-right', env());
    expect(useApp.getState().viewOf('a')).toEqual({ start: 24 * MiB, end: 56 * MiB });
    runCommand('zoom-reset', env());
    expect(useApp.getState().viewOf('a')).toEqual({ start: 0, end: 64 * MiB });
  });

  it('steps through the tabs both ways, wrapping around', () => {
    ['a', 'b', 'c'].forEach((id) => useApp.getState().upsertImage(image(id)));
    runCommand('next-tab', env());
    expect(useApp.getState().activeId).toBe('a');
    runCommand('previous-tab', env());
    expect(useApp.getState().activeId).toBe('c');
  });
});
