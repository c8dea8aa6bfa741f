// Helpers for tests of plugins and filters: open a chain from literal configs and read it.
import type { ChainConfig } from '../../shared/chain-config.ts';
import type { Extent } from '../../shared/extents.ts';
import { registry } from '../catalog.ts';
import type { OpenChain } from './chain.ts';

export type FilterSpec = [name: string, params?: Record<string, string>];

/** Open `plugin` behind `filters` (outermost first) for one connection. */
export async function openTestChain(
  plugin: string,
  pluginParams: Record<string, string>,
  filters: FilterSpec[] = [],
  options: { readonly?: boolean } = {},
): Promise<OpenChain> {
  const config: ChainConfig = {
    plugin: { name: plugin, params: pluginParams },
    filters: filters.map(([name, params]) => ({ name, params: params ?? {}, enabled: true })),
  };
  const chain = await registry.build(config);
  return chain.open({ readonly: options.readonly ?? false, exportName: '' });
}

/** The whole disk's extents as [offset, length, flags] triples, easy to write out literally. */
export async function mapOf(open: OpenChain): Promise<[number, number, number][]> {
  const size = open.top.getSize();
  const out: [number, number, number][] = [];
  let pos = 0;
  while (pos < size) {
    const list: Extent[] = await open.top.extents(size - pos, pos);
    for (const e of list) {
      const last = out[out.length - 1];
      if (last && last[2] === e.flags && last[0] + last[1] === e.offset) last[1] += e.length;
      else out.push([e.offset, e.length, e.flags]);
    }
    pos = list[list.length - 1]!.offset + list[list.length - 1]!.length;
  }
  return out;
}

export async function readAll(open: OpenChain, offset = 0, length = open.top.getSize() - offset): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  if (length > 0) await open.top.pread(buf, offset);
  return buf;
}
