// Which plugin serves an image file: the format the table's probes recognise (table.ts),
// else raw (the file plugin, or the http plugin for an image at a URL). Formats recognised
// only to be refused throw with their name.
import { stat } from 'node:fs/promises';
import { isHttpUrl } from '../plugins/http/client.ts';
import { probeImageFile, RAW_FORMAT } from './table.ts';

export interface DetectedImage {
  /** qcow2, vmdk, vhd, vhdx, vdi or raw. */
  format: string;
  /** Takes the path or URL as its magic key (file=, url=). */
  plugin: string;
}

export async function detectImage(path: string): Promise<DetectedImage> {
  const remote = isHttpUrl(path);
  if (!remote && (await stat(path)).isDirectory()) throw new Error(`${path} is a directory, not a disk image`);
  const format = await probeImageFile(path);
  if (format !== RAW_FORMAT) return { format: format.name, plugin: format.name };
  return { format: 'raw', plugin: remote ? 'http' : 'file' };
}
