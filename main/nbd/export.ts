// What the server serves: named exports, each one chain. The connection code only needs
// this view of the server.
import type { Chain } from '../backend/chain.ts';
import type { LayerContext } from '../backend/context.ts';
import { CONTEXT_ALLOCATION_DEPTH, CONTEXT_BASE_ALLOCATION, TFLAG } from './protocol.ts';

export interface ServedExport {
  name: string;
  description?: string;
  chain: Chain;
  writable: boolean;
  /** The chain as a user reads it ("cow -> file"), shown in client lists and logs. */
  chainLabel: string;
  /** Meta contexts the chain can serve, found on first need (see availableContexts). */
  metaContexts?: Promise<string[]>;
}

export interface ExportLookup {
  findExport(name: string): ServedExport | undefined;
  listExports(): ServedExport[];
}

/** Transmission flags from the top of an open chain (nbdkit: only the top layer counts). */
export function transmissionFlags(top: LayerContext, structuredReplies: boolean): number {
  let f = TFLAG.HAS_FLAGS;
  if (!top.canWrite()) f |= TFLAG.READ_ONLY;
  if (top.canFlush()) f |= TFLAG.SEND_FLUSH;
  if (top.canFua() !== 'none') f |= TFLAG.SEND_FUA;
  if (top.isRotational()) f |= TFLAG.ROTATIONAL;
  if (top.canTrim()) f |= TFLAG.SEND_TRIM;
  if (top.canZero()) {
    f |= TFLAG.SEND_WRITE_ZEROES;
    if (top.canFastZero()) f |= TFLAG.SEND_FAST_ZERO;
  }
  if (structuredReplies) f |= TFLAG.SEND_DF;
  if (top.canMultiConn()) f |= TFLAG.CAN_MULTI_CONN;
  if (top.canCache() !== 'none') f |= TFLAG.SEND_CACHE;
  return f;
}

/**
 * The meta contexts an export offers: base:allocation always; qemu:allocation-depth when the
 * chain can say which layer holds each range. Negotiation happens before the client opens
 * the export, so the chain is opened once to ask, and the answer kept with the export.
 */
export function availableContexts(exp: ServedExport): Promise<string[]> {
  exp.metaContexts ??= (async () => {
    const open = await exp.chain.open({ readonly: true, exportName: exp.name });
    try {
      return open.top.canAllocationDepth() ? [CONTEXT_BASE_ALLOCATION, CONTEXT_ALLOCATION_DEPTH] : [CONTEXT_BASE_ALLOCATION];
    } finally {
      await open.close();
    }
  })().catch(() => [CONTEXT_BASE_ALLOCATION]);
  return exp.metaContexts;
}
