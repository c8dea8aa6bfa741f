// The one table of image formats: how each is recognised, how one file of it opens as a
// layer of a backing chain, and the formats recognised only to be refused. Serving an image
// (detect.ts), following a backing file (backing.ts) and the plugin list (index.ts) all read
// it, so a format is added in one place.
import { BlockError } from '../backend/errors.ts';
import { ImageFile } from './image-file.ts';
import type { ImageLayer, LayerCaches } from './layer.ts';
import { qcow2Format } from './qcow2/format.ts';
import { RawLayer } from './raw-layer.ts';
import { vdiFormat } from './vdi/format.ts';
import { vhdFormat } from './vhd/format.ts';
import { vhdxFormat } from './vhdx/format.ts';
import { vmdkFormat } from './vmdk/format.ts';

export interface ImageFormat {
  /** As `blockscope info` prints it and as backing-file headers name it (qcow2, vmdk, ...). */
  name: string;
  /** One line for --help. */
  summary: string;
  /** True if `head` (the first 64 KiB, or less for a small file) and `tail` (the last 1 KiB) look like this format. */
  probe(head: Buffer, tail: Buffer, fileSize: number): boolean;
  /** One file of a chain; its `backing` names the next. */
  openLayer(path: string, caches: LayerCaches): Promise<ImageLayer>;
}

/** Probed in order; trailer-only formats (fixed VHD) come last. */
export const IMAGE_FORMATS: readonly ImageFormat[] = [qcow2Format, vmdkFormat, vhdxFormat, vdiFormat, vhdFormat];

/** What nothing else claims: the file's bytes are the disk. */
export const RAW_FORMAT: ImageFormat = {
  name: 'raw',
  summary: 'raw disk image',
  probe: () => true,
  openLayer: (path) => RawLayer.open(path),
};

/**
 * Formats recognised by their magic but not read (formats-and-gui.md §1.1 "label only"):
 * refused with their name, never mistaken for raw disks, whether opened or named as a
 * backing file.
 */
const REFUSED: { name: string; probe(head: Buffer, tail: Buffer): boolean }[] = [
  { name: 'QED', probe: (h) => h.length >= 4 && h.toString('latin1', 0, 4) === 'QED\0' },
  { name: 'VMDK ESX sparse (COWD)', probe: (h) => h.length >= 4 && h.toString('latin1', 0, 4) === 'COWD' },
  { name: 'VMDK seSparse', probe: (h) => h.length >= 8 && h.readBigUInt64LE(0) === 0xcafebaben },
  { name: 'Parallels', probe: (h) => ['WithoutFreeSpace', 'WithouFreSpacExt'].includes(h.toString('latin1', 0, 16)) },
  { name: 'Apple disk image (UDIF)', probe: (_h, t) => t.length >= 512 && t.toString('latin1', t.length - 512, t.length - 508) === 'koly' },
];

const PROBE_HEAD = 65536;
const PROBE_TAIL = 1024;

/** The format of `path` from its first and last bytes: raw when nothing matches; refused formats throw. */
export async function probeImageFile(path: string): Promise<ImageFormat> {
  const file = await ImageFile.open(path);
  try {
    const head = await file.read(0, Math.min(file.size, PROBE_HEAD), 'first bytes');
    const tailLength = Math.min(file.size, PROBE_TAIL);
    const tail = await file.read(file.size - tailLength, tailLength, 'last bytes');
    const format = IMAGE_FORMATS.find((f) => f.probe(head, tail, file.size));
    if (format) return format;
    const refused = REFUSED.find((r) => r.probe(head, tail));
    if (refused) {
      throw new BlockError('EINVAL', `${path}: ${refused.name} images are not supported; serving one as raw would show its metadata as disk content (qemu-img convert -O qcow2 makes one Blockscope reads)`);
    }
    return RAW_FORMAT;
  } finally {
    await file.close();
  }
}

/** The format a header or the user named. */
export function formatNamed(name: string, path: string): ImageFormat {
  const format = name === RAW_FORMAT.name ? RAW_FORMAT : IMAGE_FORMATS.find((f) => f.name === name);
  if (!format) throw new BlockError('ENOTSUP', `${path}: unsupported image format '${name}'`);
  return format;
}
