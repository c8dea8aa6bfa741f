// What a served export tells its clients it can do: the top of its chain opened as the server
// opens it (read-only unless writes were asked for and taken), asked each can*() question and
// for its block sizes (what NBD_INFO_BLOCK_SIZE carries).
// The same answers `blockscope info` prints, so the serving panel and the CLI agree.
import type { ExportCapabilities } from '../../shared/ipc.ts';
import type { Chain } from '../backend/chain.ts';
import type { Next } from '../backend/types.ts';
import { advertisedBlockSize } from '../nbd/option-data.ts';

/** The answers of an open chain's top layer, by `blockscope info`'s names. */
export function capabilitiesOf(top: Next): ExportCapabilities['flags'] {
  return {
    is_read_only: !top.canWrite(),
    can_flush: top.canFlush(),
    can_fua: top.canFua() !== 'none',
    is_rotational: top.isRotational(),
    can_trim: top.canTrim(),
    can_zero: top.canZero(),
    can_fast_zero: top.canFastZero(),
    can_multi_conn: top.canMultiConn(),
    can_cache: top.canCache() !== 'none',
    can_extents: top.canExtents(),
  };
}

/** Opens `chain` as the server would for a client and asks it. */
export async function exportCapabilities(chain: Chain, writable: boolean): Promise<ExportCapabilities> {
  const open = await chain.open({ readonly: !writable, exportName: '' });
  try {
    return { flags: capabilitiesOf(open.top), blockSize: advertisedBlockSize(open.top) };
  } finally {
    await open.close();
  }
}
