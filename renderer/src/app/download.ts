// Saving an export. Electron asks where through main's save dialog (saveExport); the
// browser, and Electron when main cannot, downloads the file under its suggested name.
import { IpcError, type IpcRequest } from '../../../shared/ipc.ts';

/** An exported file: text (JSON, CSV) or a binary blob (a picture), and the name it is offered under. */
export interface ExportFile {
  name: string;
  blob: Blob;
  /** The blob as text, when it is text (sent to the save dialog as is). */
  text?: string;
}

export function download(file: ExportFile): void {
  const url = URL.createObjectURL(file.blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = file.name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A blob's bytes as base64, for the save dialog's channel (IPC carries strings). */
export async function blobBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let bin = '';
  // btoa takes a binary string; build it in chunks so large pictures do not overflow the call stack.
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** A file name from an image's title: anything but letters, digits, '.', '-' and '_' becomes '_'. */
export function exportName(title: string, suffix: string): string {
  return `${title.replace(/[^\w.-]+/g, '_') || 'map'}${suffix}`;
}

/** What saveExport needs of the transport. */
export interface SaveChannel {
  readonly host: 'electron' | 'web';
  invoke(channel: 'dialog.saveFile', request: IpcRequest<'dialog.saveFile'>): Promise<{ path: string | null }>;
}

/**
 * Saves an export: in Electron through main's save dialog (the file is written where the user
 * chose, or nowhere on cancel); in the browser, or when main answers 'unsupported', as a named
 * download. The browser host would refuse the dialog too, but only after the whole file had
 * crossed its size-capped WebSocket, so the browser is not asked.
 */
export async function saveExport(file: ExportFile, channel: SaveChannel, fallback: (file: ExportFile) => void = download): Promise<string | null> {
  if (channel.host === 'electron') {
    const contents = file.text !== undefined ? { text: file.text } : { base64: await blobBase64(file.blob) };
    try {
      return (await channel.invoke('dialog.saveFile', { suggestedName: file.name, ...contents })).path;
    } catch (e) {
      if (!(e instanceof IpcError && e.code === 'unsupported')) throw e;
    }
  }
  fallback(file);
  return null;
}
