// Which plugin serves an image file: the first format whose probe accepts the file's head
// and tail, else raw (the file plugin).
import { open } from 'node:fs/promises';
import { BlockError } from '../backend/errors.ts';
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
    const unsupported = UNSUPPORTED.find((u) => u.probe(head, tail));
    if (unsupported) {
      throw new BlockError('EINVAL', `${path}: ${unsupported.name} images are not supported; serving one as raw would show its metadata as disk content (qemu-img convert -O qcow2 makes one Blockscope reads)`);
    }
    return { format: 'raw', plugin: 'file' };
  } finally {
    await fh.close();
  }
}

/**
 * Formats recognised by their magic but not read (formats-and-gui.md §1.1 "label only"):
 * refused with their name, never mistaken for raw disks.
 */
const UNSUPPORTED: { name: string; probe(head: Buffer, tail: Buffer): boolean }[] = [
  { name: 'QED', probe: (h) => h.length >= 4 && h.toString('latin1', 0, 4) === 'QED\0' },
  { name: 'VMDK ESX sparse (COWD)', probe: (h) => h.length >= 4 && h.toString('latin1', 0, 4) === 'COWD' },
  { name: 'VMDK seSparse', probe: (h) => h.length >= 8 && h.readBigUInt64LE(0) === 0xcafebaben },
  { name: 'Parallels', probe: (h) => ['WithoutFreeSpace', 'WithouFreSpacExt'].includes(h.toString('latin1', 0, 16)) },
  { name: 'Apple disk image (UDIF)', probe: (_h, t) => t.length >= 512 && t.toString('latin1', t.length - 512, t.length - 508) === 'koly' },
];
