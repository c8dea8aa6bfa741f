// The demo disk built in memory as 4 KiB pages: only written pages exist, so the set of
// pages *is* the data layout, and the ranges the map should show fall out of the build
// instead of being maintained by hand beside it.

export const PAGE = 4096;

export class SparseImage {
  readonly size: number;
  private readonly pages = new Map<number, Buffer>();

  constructor(size: number) {
    this.size = size;
  }

  write(offset: number, data: Buffer): void {
    if (offset < 0 || offset + data.length > this.size) throw new Error(`demo image: write at ${offset} (+${data.length}) is outside the ${this.size}-byte disk`);
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const index = Math.floor(pos / PAGE);
      const within = pos - index * PAGE;
      const n = Math.min(PAGE - within, data.length - done);
      let page = this.pages.get(index);
      if (!page) this.pages.set(index, (page = Buffer.alloc(PAGE)));
      data.copy(page, within, done, done + n);
      done += n;
    }
  }

  /** Written pages coalesced into runs, in disk order, each with its bytes. */
  runs(): { start: number; data: Buffer }[] {
    const indexes = [...this.pages.keys()].sort((a, b) => a - b);
    const out: { start: number; data: Buffer }[] = [];
    let i = 0;
    while (i < indexes.length) {
      let j = i;
      while (j + 1 < indexes.length && indexes[j + 1] === indexes[j]! + 1) j++;
      out.push({ start: indexes[i]! * PAGE, data: Buffer.concat(indexes.slice(i, j + 1).map((k) => this.pages.get(k)!)) });
      i = j + 1;
    }
    return out;
  }

  /** True if any written page overlaps [start, start+length). */
  touches(start: number, length: number): boolean {
    for (let k = Math.floor(start / PAGE); k * PAGE < start + length; k++) if (this.pages.has(k)) return true;
    return false;
  }
}
