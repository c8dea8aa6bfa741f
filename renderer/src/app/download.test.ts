import { describe, expect, it } from 'vitest';
import { IpcError, type IpcRequest } from '../../../shared/ipc.ts';
import { blobBase64, exportName, saveExport, type ExportFile, type SaveChannel } from './download.ts';

/** A save channel that records what it was asked and answers with `answer`. */
function channel(host: SaveChannel['host'], answer: () => { path: string | null }) {
  const asked: IpcRequest<'dialog.saveFile'>[] = [];
  const c: SaveChannel = {
    host,
    invoke: async (_channel, request) => {
      asked.push(request);
      return answer();
    },
  };
  return { c, asked };
}

const picture: ExportFile = { name: 'disk.img-map.png', blob: new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 255])]) };

describe('saveExport', () => {
  it('hands Electron the bytes as base64 under the suggested name and downloads nothing', async () => {
    const { c, asked } = channel('electron', () => ({ path: '/home/u/disk.img-map.png' }));
    const downloaded: ExportFile[] = [];
    expect(await saveExport(picture, c, (f) => downloaded.push(f))).toBe('/home/u/disk.img-map.png');
    expect(asked).toEqual([{ suggestedName: 'disk.img-map.png', base64: 'iVBORwD/' }]);
    expect(downloaded).toEqual([]);
  });

  it('sends text exports as text', async () => {
    const { c, asked } = channel('electron', () => ({ path: null }));
    expect(await saveExport({ name: 'd.csv', blob: new Blob(['a,b\n']), text: 'a,b\n' }, c, () => {})).toBeNull();
    expect(asked).toEqual([{ suggestedName: 'd.csv', text: 'a,b\n' }]);
  });

  it("downloads when main answers 'unsupported'", async () => {
    const { c } = channel('electron', () => {
      throw new IpcError({ code: 'unsupported', message: 'no dialog' });
    });
    const downloaded: string[] = [];
    await saveExport(picture, c, (f) => downloaded.push(f.name));
    expect(downloaded).toEqual(['disk.img-map.png']);
  });

  it('passes on any other failure instead of downloading', async () => {
    const { c } = channel('electron', () => {
      throw new IpcError({ code: 'failed', message: 'EACCES' });
    });
    const downloaded: string[] = [];
    await expect(saveExport(picture, c, (f) => downloaded.push(f.name))).rejects.toThrow('EACCES');
    expect(downloaded).toEqual([]);
  });

  it('downloads in the browser without asking main', async () => {
    const { c, asked } = channel('web', () => ({ path: '/nowhere' }));
    const downloaded: string[] = [];
    await saveExport(picture, c, (f) => downloaded.push(f.name));
    expect(asked).toEqual([]);
    expect(downloaded).toEqual(['disk.img-map.png']);
  });
});

describe('blobBase64', () => {
  it('encodes blobs larger than one chunk the way Node does', async () => {
    const bytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7) & 255);
    expect(await blobBase64(new Blob([bytes]))).toBe(Buffer.from(bytes).toString('base64'));
  });
});

describe('exportName', () => {
  it('keeps a plain title and replaces what a file name should not hold', () => {
    expect(exportName('disk.img', '-map.png')).toBe('disk.img-map.png');
    expect(exportName('nbd://host:10809/my export', '-map.png')).toBe('nbd_host_10809_my_export-map.png');
  });
});
