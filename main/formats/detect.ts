// Which plugin serves an image file: the format the table's probes recognise (table.ts),
// else raw (the file plugin). Formats recognised only to be refused throw with their name.
import { stat } from 'node:fs/promises';
import { probeImageFile, RAW_FORMAT } from './table.ts';

export interface DetectedImage {
  /** qcow2, vmdk, vhd, vhdx, vdi or raw. */
  format: string;
  plugin: string;
}

export async function detectImage(path: string): Promise<DetectedImage> {
  if ((await stat(path)).isDirectory()) throw new Error(`${path} is a directory, not a disk image`);
  const format = await probeImageFile(path);
  return { format: format.name, plugin: format === RAW_FORMAT ? 'file' : format.name };
}
