// Formats that map fixed-size blocks through a table (VHD, VHDX, VDI) walk a guest range
// block by block; each visit gets the part of the range inside one block.

export interface BlockSpan {
  block: number;
  /** Guest offset where the block starts. */
  blockStart: number;
  /** The part of the walked range inside this block: [from, to). */
  from: number;
  to: number;
}

/** `visit` may answer synchronously (its table page was cached): then nothing is awaited. */
export async function walkBlocks(
  offset: number,
  count: number,
  blockSize: number,
  visit: (span: BlockSpan) => void | Promise<void>,
): Promise<void> {
  const end = offset + count;
  for (let block = Math.floor(offset / blockSize); block * blockSize < end; block++) {
    const blockStart = block * blockSize;
    const pending = visit({ block, blockStart, from: Math.max(offset, blockStart), to: Math.min(end, blockStart + blockSize) });
    if (pending) await pending;
  }
}
