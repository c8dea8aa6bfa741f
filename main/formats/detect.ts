// Which plugin serves an image file: the first format whose probe accepts the file's head
// and tail, else raw (the file plugin).
import { open } from 'node:fs/promises';
import { imageFormats } from './index.ts';

const HEAD = 64 * 1024;
const TAIL = 1024;

export interface DetectedImage {
  /** qcow2, vmdk, vhd, vhdx, vdi or raw. */
  format: string;
  plugin: string;
}

export async function detectImage(path: string): Promise<DetectedImage> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new Error(`${path} is a directory, not a disk image`);
    const size = st.size;
    const head = Buffer.alloc(Math.min(HEAD, size));
    await fh.read(head, 0, head.length, 0);
    const tail = Buffer.alloc(Math.min(TAIL, size));
    await fh.read(tail, 0, tail.length, size - tail.length);
    for (const f of imageFormats) {
      if (f.probe(head, tail, size)) return { format: f.name, plugin: f.plugin.name };
    }
    return { format: 'raw', plugin: 'file' };
  } finally {
    await fh.close();
  }
}
