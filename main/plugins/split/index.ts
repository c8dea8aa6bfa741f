// split: several files served as one disk, end to end (nbdkit-split-plugin). Each file is
// opened through the file plugin, so every part keeps its SEEK_DATA map, fallocate trims and
// read-only fallback; this layer only cuts requests at the part boundaries.
import { pushExtent, type Extent } from '../../../shared/extents.ts';
import { repeatedValues } from '../../../shared/params.ts';
import { BlockError } from '../../backend/errors.ts';
import { FLAG_REQ_ONE } from '../../backend/flags.ts';
import { definePlugin, type OpenOptions, type PluginHandle } from '../../backend/types.ts';
import { filePlugin } from '../file/index.ts';

interface Part {
  start: number;
  size: number;
  handle: PluginHandle;
}

/** The pieces of [offset, offset+count) that fall in each part, in disk order. */
function* piecesOf(parts: readonly Part[], offset: number, count: number): Generator<{ part: Part; at: number; length: number; done: number }> {
  const end = offset + count;
  for (const part of parts) {
    const from = Math.max(offset, part.start);
    const to = Math.min(end, part.start + part.size);
    if (from < to) yield { part, at: from - part.start, length: to - from, done: from - offset };
  }
}

class SplitConnection implements PluginHandle {
  constructor(private readonly parts: readonly Part[], private readonly size: number) {}

  getSize(): number { return this.size; }
  canWrite(): Promise<boolean> { return this.all((h) => h.canWrite?.() ?? false); }
  canTrim(): Promise<boolean> { return this.all((h) => h.canTrim?.() ?? false); }
  canFlush(): boolean { return true; }
  canFua(): 'emulate' { return 'emulate'; }
  canMultiConn(): boolean { return true; }
  canExtents(): boolean { return true; }

  async pread(buf: Buffer, offset: number, flags: number): Promise<void> {
    for (const p of piecesOf(this.parts, offset, buf.length)) await p.part.handle.pread(buf.subarray(p.done, p.done + p.length), p.at, flags);
  }

  async pwrite(buf: Buffer, offset: number, flags: number): Promise<void> {
    for (const p of piecesOf(this.parts, offset, buf.length)) await p.part.handle.pwrite!(buf.subarray(p.done, p.done + p.length), p.at, flags);
  }

  async flush(flags: number): Promise<void> {
    for (const part of this.parts) await part.handle.flush?.(flags);
  }

  async trim(count: number, offset: number, flags: number): Promise<void> {
    for (const p of piecesOf(this.parts, offset, count)) await p.part.handle.trim?.(p.length, p.at, flags);
  }

  /** A part that cannot zero in place throws ENOTSUP and the backend writes zeroes instead. */
  async zero(count: number, offset: number, flags: number): Promise<void> {
    for (const p of piecesOf(this.parts, offset, count)) {
      if (!p.part.handle.zero) throw new BlockError('ENOTSUP', 'split: this part cannot zero in place');
      await p.part.handle.zero(p.length, p.at, flags);
    }
  }

  /**
   * Each part's map shifted to its place. A part's gaps are holes, so its list can be joined
   * to the next part's; with REQ_ONE the first part's answer alone is the reply.
   */
  async extents(count: number, offset: number, flags: number): Promise<Extent[]> {
    const out: Extent[] = [];
    for (const p of piecesOf(this.parts, offset, count)) {
      const list = await p.part.handle.extents!(p.length, p.at, flags);
      for (const e of list) pushExtent(out, e.offset + p.part.start, e.length, e.flags);
      if (flags & FLAG_REQ_ONE) break;
    }
    return out;
  }

  async close(): Promise<void> {
    for (const part of this.parts) await part.handle.close?.();
  }

  private async all(test: (h: PluginHandle) => boolean | Promise<boolean>): Promise<boolean> {
    for (const part of this.parts) if (!(await test(part.handle))) return false;
    return true;
  }
}

export const splitPlugin = definePlugin({
  name: 'split',
  summary: 'several files concatenated into one disk (file= once per part, in order)',
  magicKey: 'file',
  params: [{ key: 'file', kind: 'string', required: true, repeat: true, description: 'a part; give file= once per part, in disk order' }],
  create(params) {
    const files = repeatedValues(params.file).filter((f) => f !== '');
    const instances = Promise.all(files.map((file) => filePlugin.create({ file, fadvise: 'normal' })));
    return {
      description: `${files.length} files: ${files.join(', ')}`,
      async open(options: OpenOptions) {
        const parts: Part[] = [];
        try {
          for (const instance of await instances) {
            const handle = await instance.open(options);
            const start = parts.length ? parts[parts.length - 1]!.start + parts[parts.length - 1]!.size : 0;
            parts.push({ start, size: await handle.getSize(), handle });
          }
        } catch (err) {
          for (const part of parts) await part.handle.close?.();
          throw err;
        }
        const last = parts[parts.length - 1];
        return new SplitConnection(parts, last ? last.start + last.size : 0);
      },
    };
  },
});
