// Reply buffers for READ are big (up to 32 MiB) and short-lived; allocating each anew made
// the garbage collector a large share of a sequential read. A connection hands a buffer back
// once the socket has taken its bytes, and the next read of the same size reuses it.
//
// New WRITE payloads of the common request sizes are cut from slabs backed by 2 MiB pages: a
// new connection's first payloads are fresh memory, and on this VM the first touch of each
// 4 KiB page costs a fault (nbdcopy's 2 GiB write into a server: ~5,000 faults, a tenth of the
// server's CPU, all in the socket reads that fill the payloads). READ replies stay whole
// buffers: a TLS worker takes a whole one without a copy (tls-offload.ts) and copies a piece.
import { hugePaged } from '../native-io.ts';

/** Sizes cut from slabs: a WRITE payload or READ reply of nbdcopy's or qemu's usual sizes. */
const SLAB_PIECE_MIN = 64 * 1024;
const SLAB_PIECE_MAX = 2 * 1024 * 1024;
/** A slab: large enough for hugePaged (which needs 8 MiB) and for several of the largest pieces. */
const SLAB_BYTES = 8 * 1024 * 1024;

export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private held = 0;
  private readonly limit: number;
  /** The slab new pieces are cut from, and how much of it is taken. */
  private slab: Buffer | null = null;
  private slabUsed = 0;

  constructor(limitBytes: number) {
    this.limit = limitBytes;
  }

  /** A buffer of `size` bytes, its own ArrayBuffer unless it was released here as a piece. */
  acquire(size: number): Buffer {
    return this.reuse(size) ?? Buffer.allocUnsafeSlow(size);
  }

  /** A buffer for a WRITE payload: a new one of the usual sizes is a piece of a slab. */
  acquirePayload(size: number): Buffer {
    return this.reuse(size) ?? (size >= SLAB_PIECE_MIN && size <= SLAB_PIECE_MAX ? this.cut(size) : Buffer.allocUnsafeSlow(size));
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

  private reuse(size: number): Buffer | undefined {
    const b = this.free.get(size)?.pop();
    if (b) this.held -= size;
    return b;
  }

  /**
   * A piece of the current slab, or of a new one when it has no room left (the rest of the
   * old one is lost, at most a piece). A slab's memory goes when no piece of it is referenced.
   * No piece can be moved to another thread, which would take the whole slab with it:
   * tls-offload.ts transfers only buffers that are a whole ArrayBuffer.
   */
  private cut(size: number): Buffer {
    if (!this.slab || this.slabUsed + size > this.slab.length) {
      this.slab = hugePaged(Buffer.allocUnsafeSlow(SLAB_BYTES));
      this.slabUsed = 0;
    }
    const piece = this.slab.subarray(this.slabUsed, this.slabUsed + size);
    this.slabUsed += size;
    return piece;
  }
}
