// The plugin shape every layered image format shares (qcow2, vmdk, ...): read-only, one
// chain opened per export and shared by its connections, extents over the whole chain,
// and `allocationDepth` for the qemu:allocation-depth meta context.
import type { Extent } from '../../shared/extents.ts';
import { definePlugin, type PluginDefinition, type PluginHandle, type PluginInstance } from '../backend/types.ts';
import type { ImageFormat } from './table.ts';
import { openImageChain } from './backing.ts';
import type { DepthExtent } from '../backend/types.ts';

/** A plugin handle that can also say which layer of the chain holds each range. */
export interface LayeredImageHandle extends PluginHandle {
  /** Extents covering [offset, offset+count), sorted and coalesced; depth as in qemu:allocation-depth. */
  allocationDepth(count: number, offset: number): Promise<DepthExtent[]>;
  extents(count: number, offset: number, flags: number): Promise<Extent[]>;
}


/** One file of the chain, as the app's info panel lists it. */
export interface ImageLayerDescription {
  path: string;
  format: string;
  size: number;
  summary: string;
}

/** A plugin instance of a layered image format: it knows the files of its chain, top first. */
export interface LayeredImageInstance extends PluginInstance {
  readonly layers: readonly ImageLayerDescription[];
}

export function isLayeredImageInstance(instance: PluginInstance): instance is LayeredImageInstance {
  return Array.isArray((instance as Partial<LayeredImageInstance>).layers);
}

export function defineImagePlugin({ name: format, summary }: ImageFormat): PluginDefinition {
  return definePlugin({
    name: format,
    summary,
    magicKey: 'file',
    params: [{ key: 'file', kind: 'path', required: true, description: `${format} image to serve (read-only)` }],
    async create(params) {
      const stack = await openImageChain(params.file, format);
      const layers = stack.layers.map((l, i) => (i === 0 ? `${l.path}: ${l.summary}` : `backing ${i}: ${l.path} (${l.summary})`));
      const warnings = stack.layers.flatMap((l) => l.warnings);
      for (const w of warnings) console.warn(`blockscope: ${w}`);
      const instance: LayeredImageInstance = {
        layers: stack.layers.map((l) => ({ path: l.path, format: l.format, size: l.size, summary: l.summary })),
        description: [...layers, ...warnings].join('; '),
        open(): LayeredImageHandle {
          return {
            getSize: () => stack.size,
            canWrite: () => false,
            canMultiConn: () => true,
            canCache: () => 'emulate',
            pread: (buf, offset) => stack.read(buf, offset),
            extents: (count, offset) => stack.extents(count, offset),
            allocationDepth: (count, offset) => stack.allocationDepth(count, offset),
          };
        },
        unload: () => stack.close(),
      };
      return instance;
    },
  });
}
