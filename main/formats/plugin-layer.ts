// Any image-format plugin as a backing layer (a qcow2 over a VHD, say): the plugin's own
// extents become the layer's status, and every range counts as held by this layer, as qemu
// treats formats that have no backing file of their own.
import { EXTENT_DATA } from '../../shared/extents.ts';
import { normalizeExtents } from '../backend/extents.ts';
import type { PluginDefinition, PluginHandle, PluginInstance } from '../backend/types.ts';
import type { ImageLayer, LayerRun } from './layer.ts';

export class PluginLayer implements ImageLayer {
  readonly warnings: readonly string[] = [];
  readonly summary: string;

  private constructor(
    readonly path: string,
    readonly format: string,
    readonly size: number,
    private readonly instance: PluginInstance,
    private readonly handle: PluginHandle,
  ) {
    this.summary = instance.description ?? format;
  }

  static async open(path: string, format: string, plugin: PluginDefinition): Promise<PluginLayer> {
    const instance = await plugin.create({ file: path });
    try {
      const handle = await instance.open({ readonly: true, exportName: '' });
      return new PluginLayer(path, format, await handle.getSize(), instance, handle);
    } catch (err) {
      await instance.unload?.();
      throw err;
    }
  }

  async status(offset: number, count: number): Promise<LayerRun[]> {
    const raw = this.handle.extents ? await this.handle.extents(count, offset, 0) : [{ offset, length: count, flags: EXTENT_DATA }];
    // Asked without REQ_ONE, the plugin speaks for the whole range; no reply cap either, as
    // a layer's status must cover everything it is asked about.
    return normalizeExtents(this.path, raw, offset, count, { tailIsHole: true, max: Number.POSITIVE_INFINITY }).map((e) => ({ ...e, present: true }));
  }

  async readPresent(buf: Buffer, offset: number): Promise<void> {
    await this.handle.pread(buf, offset, 0);
  }

  async close(): Promise<void> {
    await this.handle.close?.();
    await this.instance.unload?.();
  }
}
