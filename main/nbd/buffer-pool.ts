// Reply buffers for READ are big (up to 32 MiB) and short-lived; allocating each anew made
// the garbage collector a large share of a sequential read. A connection hands a buffer back
// once the socket has taken its bytes, and the next read of the same size reuses it.
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private held = 0;
  private readonly limit: number;

  constructor(limitBytes: number) {
    this.limit = limitBytes;
  }

  acquire(size: number): Buffer {
    const list = this.free.get(size);
    const b = list?.pop();
    if (b) {
      this.held -= size;
      return b;
    }
    return Buffer.allocUnsafeSlow(size);
  }

  release(b: Buffer): void {
    // Empty: a buffer another thread took (a TLS worker, tls-offload.ts) is nothing to keep.
    if (b.length === 0 || this.held + b.length > this.limit) return;
    let list = this.free.get(b.length);
    if (!list) {
      list = [];
      this.free.set(b.length, list);
    }
    list.push(b);
    this.held += b.length;
  }
}
