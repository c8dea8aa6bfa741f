// Test support for layered image plugins: open one through the real backend (unloading it
// afterwards, so no file stays open) and qemu's map in the exact base:allocation terms the
// layered plugins promise.
import { Chain, type OpenChain } from '../backend/chain.ts';
import type { PluginDefinition } from '../backend/types.ts';
import { mapOf, readAll } from '../backend/testing.ts';
import { execFileSync } from 'node:child_process';
import { openImageChain } from './backing.ts';
import type { DepthExtent } from '../backend/types.ts';
import { coalesce, sha256, type ExtentTriple } from './qemu-oracle.ts';
import type { Extent } from '../../shared/extents.ts';

export interface OpenedImage {
  chain: OpenChain;
  map(): Promise<ExtentTriple[]>;
  sha256(): Promise<string>;
  close(): Promise<void>;
}

export async function openImagePlugin(plugin: PluginDefinition, file: string): Promise<OpenedImage> {
  const chain = new Chain({ name: plugin.name, instance: await plugin.create({ file }) }, []);
  const open = await chain.open({ readonly: true, exportName: '' });
  return {
    chain: open,
    map: () => mapOf(open),
    sha256: async () => sha256(await readAll(open)),
    close: async () => {
      await open.close();
      await chain.unload();
    },
  };
}

/** Every guest byte of `file` through the plugin, and its coalesced map. */
export async function bytesAndMap(plugin: PluginDefinition, file: string): Promise<{ bytes: Buffer; map: ExtentTriple[] }> {
  const opened = await openImagePlugin(plugin, file);
  try {
    return { bytes: await readAll(opened.chain), map: await opened.map() };
  } finally {
    await opened.close();
  }
}

/** A whole image chain read at once: its bytes, base:allocation extents and layer depths. */
export async function chainContents(file: string, format: string): Promise<{ bytes: Buffer; extents: Extent[]; depth: DepthExtent[] }> {
  const stack = await openImageChain(file, format);
  try {
    const bytes = Buffer.alloc(stack.size);
    await stack.read(bytes, 0);
    return { bytes, extents: await stack.extents(stack.size, 0), depth: await stack.allocationDepth(stack.size, 0) };
  } finally {
    await stack.close();
  }
}

interface MapEntry {
  start: number;
  length: number;
  depth: number;
  present: boolean;
  zero: boolean;
  data: boolean;
  offset?: number;
}

/** qemu-img map's JSON; a big image's map outgrows execFileSync's default 1 MiB buffer. */
function qemuMapEntries(image: string, format: string): MapEntry[] {
  const json = execFileSync('qemu-img', ['map', '-f', format, '--output=json', image], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(json) as MapEntry[];
}

/**
 * `qemu-img map --output=json` as base:allocation triples, with the one rule where we differ
 * from qemu-nbd on purpose: a zero range that still owns host space (a qcow2 zero cluster
 * with an offset) is ZERO, not HOLE|ZERO. `rawDepths` are chain depths (0 = top) of raw
 * files, whose holes carry an offset in qemu's output but own no space.
 */
export function qemuChainMap(image: string, format: string, rawDepths: readonly number[] = []): ExtentTriple[] {
  return coalesce(qemuMapEntries(image, format).map((e): ExtentTriple => {
    if (e.data) return [e.start, e.length, e.zero ? 2 : 0];
    const ownsSpace = e.present && e.offset !== undefined && !rawDepths.includes(e.depth);
    return [e.start, e.length, e.zero ? (ownsSpace ? 2 : 3) : 1];
  }));
}

/** qemu's layer depths in qemu:allocation-depth terms: 0 = nothing, 1 = top, ... */
export function qemuDepthMap(image: string, format: string): ExtentTriple[] {
  return coalesce(qemuMapEntries(image, format).map((e): ExtentTriple => [e.start, e.length, e.present ? e.depth + 1 : 0]));
}
