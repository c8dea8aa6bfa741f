// `map` and `info` look at an image file, a plugin, or a remote export. Local targets go
// through the same chain the server would serve; URIs are read as an NBD client, so the
// answers are exactly what any client of that server gets.
import type { ChainConfig } from '../../../shared/chain-config.ts';
import { pushExtent, type Extent } from '../../../shared/extents.ts';
import type { LayerContext } from '../../backend/context.ts';
import { registry } from '../../catalog.ts';
import type { ExportInfo } from '../../nbd/client.ts';
import { CONTEXT_ALLOCATION_DEPTH, CONTEXT_BASE_ALLOCATION } from '../../nbd/protocol.ts';
import { isNbdUri } from '../../nbd/uri.ts';
import { resolveChain } from './chain-args.ts';

export interface Target {
  size: number;
  /** raw, qcow2, ... or "nbd" for a remote export. */
  format: string;
  config?: ChainConfig;
  top?: LayerContext;
  remote?: ExportInfo;
  extents(count: number, offset: number): Promise<Extent[]>;
  /** qemu:allocation-depth as extents whose flags hold the depth. */
  depth(count: number, offset: number): Promise<Extent[]>;
  pread(buf: Buffer, offset: number): Promise<void>;
  close(): Promise<void>;
}

/** Block status requests are split at this size, as nbdinfo does (u32 lengths). */
export const MAX_QUERY = 2 ** 32 - 512;

export async function openTarget(words: string[], filters: string[] = []): Promise<Target> {
  const first = words[0];
  if (first && isNbdUri(first) && filters.length === 0) {
    // Loaded only for a URI: the NBD client brings the TLS code, which local images never need.
    const { NbdClient } = await import('../../nbd/client.ts');
    const client = await NbdClient.connect(first, { contexts: [CONTEXT_BASE_ALLOCATION, CONTEXT_ALLOCATION_DEPTH] });
    return {
      size: client.size,
      format: 'nbd',
      remote: client.info,
      extents: (count, offset) => client.blockStatus(count, offset),
      depth: (count, offset) => client.blockStatus(count, offset, false, CONTEXT_ALLOCATION_DEPTH),
      pread: (buf, offset) => client.pread(buf, offset),
      close: () => client.close(),
    };
  }
  const resolved = await resolveChain({ filters, words });
  const chain = await registry.build(resolved.config);
  const open = await chain.open({ readonly: true, exportName: '' });
  const top = open.top;
  return {
    size: top.getSize(),
    format: resolved.format ?? resolved.config.plugin.name,
    config: resolved.config,
    top,
    extents: (count, offset) => top.extents(count, offset),
    depth: async (count, offset) => {
      if (!top.canAllocationDepth()) throw new Error(`${resolved.target}: no allocation depth (only image formats with backing files have one)`);
      return (await top.allocationDepth(count, offset)).map((d) => ({ offset: d.offset, length: d.length, flags: d.depth }));
    },
    pread: (buf, offset) => top.pread(buf, offset),
    close: async () => {
      await open.close();
      await chain.unload();
    },
  };
}

/** The whole disk's extents (of base:allocation or the depth context), coalesced, walking in MAX_QUERY slices. */
export async function fullMap(target: Target, context = CONTEXT_BASE_ALLOCATION): Promise<Extent[]> {
  const query = context === CONTEXT_ALLOCATION_DEPTH ? target.depth : target.extents;
  const out: Extent[] = [];
  let pos = 0;
  while (pos < target.size) {
    const list = await query(Math.min(target.size - pos, MAX_QUERY), pos);
    if (list.length === 0) throw new Error(`no extents returned at offset ${pos}`);
    for (const e of list) {
      const start = Math.max(e.offset, pos);
      const end = Math.min(e.offset + e.length, target.size);
      if (end <= start) continue;
      pushExtent(out, start, end - start, e.flags);
      pos = end;
    }
  }
  return out;
}
