import { describe, expect, it } from 'vitest';
import { apiNameOf, ipcChannels, ipcRequestSchemas, IpcError, unwrapResult } from './ipc.ts';

describe('request schemas', () => {
  it('accept an image path or an nbd URI for images.open', () => {
    expect(ipcRequestSchemas['images.open'].safeParse({ path: '/tmp/a.img' }).success).toBe(true);
    expect(ipcRequestSchemas['images.open'].safeParse({ uri: 'nbd+unix:///?socket=/tmp/s' }).success).toBe(true);
    expect(ipcRequestSchemas['images.open'].safeParse({ uri: 'http://example.com/' }).success).toBe(false);
  });

  it('refuse unknown keys', () => {
    expect(ipcRequestSchemas['images.close'].safeParse({ imageId: 'a', extra: 1 }).success).toBe(false);
  });

  it('refuse an empty or inverted map range', () => {
    expect(ipcRequestSchemas['map.bins'].safeParse({ imageId: 'a', start: 10, end: 10, bins: 4 }).success).toBe(false);
    expect(ipcRequestSchemas['map.bins'].safeParse({ imageId: 'a', start: 0, end: 10, bins: 4 }).success).toBe(true);
  });

  it('refuse offsets that are not exact integers', () => {
    expect(ipcRequestSchemas['map.extentAt'].safeParse({ imageId: 'a', offset: 2 ** 53 }).success).toBe(false);
    expect(ipcRequestSchemas['map.extentAt'].safeParse({ imageId: 'a', offset: 1.5 }).success).toBe(false);
  });

  it('cap hex reads at 64 KiB', () => {
    expect(ipcRequestSchemas['hex.read'].safeParse({ imageId: 'a', offset: 0, length: 65537 }).success).toBe(false);
  });
});

it('names preload functions after channels', () => {
  expect(apiNameOf('map.extentAt')).toBe('mapExtentAt');
  expect(new Set(ipcChannels.map(apiNameOf)).size).toBe(ipcChannels.length);
});

it('unwrapResult throws an IpcError carrying the code', () => {
  expect(unwrapResult({ ok: true, value: 3 })).toBe(3);
  try {
    unwrapResult({ ok: false, error: { code: 'needs-confirmation', message: 'cow holds data', filters: ['cow'] } });
    expect.unreachable();
  } catch (err) {
    expect(err).toBeInstanceOf(IpcError);
    expect((err as IpcError).info.filters).toEqual(['cow']);
  }
});
