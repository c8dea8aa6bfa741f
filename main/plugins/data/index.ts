// data: a small disk written on the command line (nbdkit-data-plugin), in nbdkit's data
// format, as raw text or as base64. The bytes go into a sparse RAM store shared by every
// connection, so the disk is writable and writes last until the export closes.
import { BlockError } from '../../backend/errors.ts';
import { definePlugin } from '../../backend/types.ts';
import { SparsePages, sparsePagesHandle } from '../memory/sparse-pages.ts';
import { evaluateData, type Image } from './evaluate.ts';

const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

function sourceImage(params: { data?: string; raw?: string; base64?: string }): Image {
  const given = (['data', 'raw', 'base64'] as const).filter((k) => params[k] !== undefined);
  if (given.length !== 1) throw new BlockError('EINVAL', 'data: exactly one of data=, raw= or base64= must be given');
  if (params.raw !== undefined) return { size: Buffer.byteLength(params.raw), pieces: [{ offset: 0, data: Buffer.from(params.raw) }] };
  if (params.base64 !== undefined) {
    if (!BASE64.test(params.base64)) throw new BlockError('EINVAL', 'data: base64= is not valid base64');
    const data = Buffer.from(params.base64, 'base64');
    return { size: data.length, pieces: [{ offset: 0, data }] };
  }
  return evaluateData(params.data!, { variable: (name) => process.env[name] });
}

/** Stores the image's pieces in order (later ones overwrite earlier), cut at `size`. */
function store(image: Image, size: number): SparsePages {
  const pages = new SparsePages();
  for (const { offset, data } of image.pieces) {
    if (offset < size) pages.write(data.subarray(0, Math.min(data.length, size - offset)), offset);
  }
  return pages;
}

export const dataPlugin = definePlugin({
  name: 'data',
  summary: 'small disk from the command line: bytes, strings, @offsets, repeats, <files',
  magicKey: 'data',
  params: [
    { key: 'data', kind: 'string', description: "nbdkit's data format, e.g. '0 1 2 3 @0x1fe 0x55 0xaa'" },
    { key: 'raw', kind: 'string', description: 'the disk as literal text' },
    { key: 'base64', kind: 'string', description: 'the disk as base64' },
    { key: 'size', kind: 'size', description: 'truncate or extend (with zeroes) to this size' },
    { key: 'allocator', kind: 'enum', values: ['sparse', 'malloc', 'zstd'], default: 'sparse', description: 'accepted for nbdkit compatibility; storage is always sparse 4 KiB pages' },
  ],
  create(params) {
    const image = sourceImage(params);
    const size = params.size ?? image.size;
    const pages = store(image, size);
    return {
      description: `data disk of ${size} bytes`,
      open: () => sparsePagesHandle(pages, size),
    };
  },
});
