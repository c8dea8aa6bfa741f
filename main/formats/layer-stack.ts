// A chain of image layers (top first) as one disk: reads fall through unallocated ranges to
// the backing file, and base:allocation describes the whole chain as qemu-nbd does: data
// any layer supplies is DATA, so clients such as qemu-img convert never skip it as zeroes.
// Which layer holds each range is reported separately (qemu:allocation-depth).
import { EXTENT_HOLE_ZERO, EXTENT_ZERO, pushRun, type Extent } from '../../shared/extents.ts';
import { BlockError } from '../backend/errors.ts';
import type { DepthExtent } from '../backend/types.ts';
import type { ImageLayer, LayerRun } from './layer.ts';


interface Resolved {
  offset: number;
  length: number;
  flags: number;
  depth: number;
}

export class LayerStack {
  readonly layers: readonly ImageLayer[];
  readonly size: number;

  constructor(layers: readonly ImageLayer[]) {
    this.layers = layers;
    this.size = layers[0]!.size;
  }

  async read(buf: Buffer, offset: number): Promise<void> {
    await this.readFrom(0, buf, offset);
  }

  async extents(count: number, offset: number): Promise<Extent[]> {
    return coalesce(await this.resolve(count, offset), (r) => r.flags).map((r) => ({ offset: r.offset, length: r.length, flags: r.flags }));
  }

  async allocationDepth(count: number, offset: number): Promise<DepthExtent[]> {
    return coalesce(await this.resolve(count, offset), (r) => r.depth).map((r) => ({ offset: r.offset, length: r.length, depth: r.depth }));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.layers.map((l) => l.close()));
  }

  private async resolve(count: number, offset: number): Promise<Resolved[]> {
    const out: Resolved[] = [];
    await this.resolveFrom(0, offset, count, out);
    return out;
  }

  private async resolveFrom(index: number, offset: number, count: number, out: Resolved[]): Promise<void> {
    const layer = this.layers[index]!;
    const end = offset + count;
    // A backing file shorter than the image above it reads as zeroes past its end.
    const inside = Math.min(end, layer.size);
    if (offset < inside) {
      for (const run of await layerStatus(layer, offset, inside - offset)) {
        if (run.present) out.push({ offset: run.offset, length: run.length, flags: run.flags, depth: index + 1 });
        else if (index + 1 < this.layers.length) await this.resolveFrom(index + 1, run.offset, run.length, out);
        else out.push({ offset: run.offset, length: run.length, flags: EXTENT_HOLE_ZERO, depth: 0 });
      }
    }
    const tail = Math.max(offset, inside);
    if (tail < end) out.push({ offset: tail, length: end - tail, flags: EXTENT_HOLE_ZERO, depth: 0 });
  }

  private async readFrom(index: number, buf: Buffer, offset: number): Promise<void> {
    const layer = this.layers[index]!;
    const inside = Math.max(0, Math.min(buf.length, layer.size - offset));
    buf.fill(0, inside);
    if (inside === 0) return;
    for (const run of await layerStatus(layer, offset, inside)) {
      const piece = buf.subarray(run.offset - offset, run.offset - offset + run.length);
      if (!run.present) {
        if (index + 1 < this.layers.length) await this.readFrom(index + 1, piece, run.offset);
        else piece.fill(0);
      } else if (run.flags & EXTENT_ZERO) {
        piece.fill(0);
      } else {
        await layer.readPresent(piece, run.offset);
      }
    }
  }
}

/**
 * A layer's status, checked to tile the range exactly. Every plugin answer is built from
 * these runs without REQ_ONE, so the backend takes whatever they leave uncovered at the end
 * for a hole: a layer that stopped short would make data read and map as zeroes.
 */
async function layerStatus(layer: ImageLayer, offset: number, count: number): Promise<LayerRun[]> {
  const runs = await layer.status(offset, count);
  let pos = offset;
  for (const run of runs) {
    if (run.offset !== pos || !(run.length > 0)) break;
    pos += run.length;
  }
  if (pos !== offset + count) {
    throw new BlockError('EIO', `${layer.path}: internal error: the ${layer.format} status of ${count} bytes at ${offset} does not cover them (it breaks off at ${pos})`);
  }
  return runs;
}

function coalesce(list: Resolved[], key: (r: Resolved) => number): Resolved[] {
  const out: Resolved[] = [];
  const sameKey = (a: Resolved, b: Resolved) => key(a) === key(b);
  for (const r of list) pushRun(out, { ...r }, sameKey);
  return out;
}
