// A raw file as a layer (a qcow2's raw backing file, a raw external data file): every byte is
// the file's own, holes in the host file read as zero and are reported as such.
import { EXTENT_DATA, EXTENT_HOLE_ZERO } from '../../shared/extents.ts';
import { HostAllocation } from './host-allocation.ts';
import { ImageFile } from './image-file.ts';
import { RunBuilder, type ImageLayer, type LayerRun } from './layer.ts';

export class RawLayer implements ImageLayer {
  readonly format = 'raw';
  readonly warnings: readonly string[] = [];
  readonly path: string;
  readonly size: number;
  readonly summary: string;

  private constructor(private readonly file: ImageFile, private readonly host: HostAllocation) {
    this.path = file.path;
    this.size = file.size;
    this.summary = `raw, ${file.size} bytes`;
  }

  static async open(path: string): Promise<RawLayer> {
    const file = await ImageFile.open(path);
    return new RawLayer(file, HostAllocation.open(path));
  }

  async status(offset: number, count: number): Promise<LayerRun[]> {
    return hostStatus(this.host, offset, count, offset);
  }

  async readPresent(buf: Buffer, offset: number): Promise<void> {
    await this.file.readExact(buf, offset, 'raw data');
  }

  async close(): Promise<void> {
    this.host.close();
    await this.file.close();
  }
}

/**
 * Status of guest [offset, offset+count) stored 1:1 at host [hostOffset + ...]: data where
 * the host file has data, HOLE|ZERO where it has a hole (as qemu reports raw files).
 */
export function hostStatus(host: HostAllocation, offset: number, count: number, hostOffset: number, holeFlags = EXTENT_HOLE_ZERO): LayerRun[] {
  const b = new RunBuilder();
  const start = hostOffset;
  const end = hostOffset + count;
  let pos = start;
  for (const [s, e] of host.dataRuns(start, end)) {
    b.push(offset + pos - start, s - pos, true, holeFlags);
    b.push(offset + s - start, e - s, true, EXTENT_DATA);
    pos = e;
  }
  b.push(offset + pos - start, end - pos, true, holeFlags);
  return b.runs;
}
