// Opens an image with its whole backing chain: each layer names the next, relative names
// resolve against the naming image's folder, the format comes from the image or is probed.
// A missing file, a loop (an image that is, directly or through others, its own backing
// file) or an absurdly deep chain is an error naming the images involved.
import { stat } from 'node:fs/promises';
import { BlockError } from '../backend/errors.ts';
import { ImageFile } from './image-file.ts';
import { newLayerCaches, type ImageLayer, type LayerCaches } from './layer.ts';
import { LayerStack } from './layer-stack.ts';
import { PluginLayer } from './plugin-layer.ts';
import { Qcow2Layer } from './qcow2/layer.ts';
import { isQcow2 } from './qcow2/probe.ts';
import { RawLayer } from './raw-layer.ts';
import { resolveRelatedFile } from './related-file.ts';
import { VdiLayer } from './vdi/vdi-layer.ts';
import { VhdLayer } from './vhd/vhd-layer.ts';
import { VhdxLayer } from './vhdx/vhdx-layer.ts';
import { VmdkLayer } from './vmdk/layer.ts';
import { isVmdk } from './vmdk/probe.ts';

/** qemu has no limit; a chain deeper than this is far more likely a mistake or an attack. */
export const MAX_CHAIN_DEPTH = 64;

const PROBE_HEAD = 65536;
const PROBE_TAIL = 1024;

type LayerOpener = (path: string, caches: LayerCaches) => Promise<ImageLayer>;

/** Formats read natively as layers (with their own backing files and allocation depth). */
const layerOpeners: Record<string, LayerOpener> = {
  qcow2: (path, caches) => Qcow2Layer.open(path, caches),
  vmdk: (path, caches) => VmdkLayer.open(path, caches),
  raw: (path) => RawLayer.open(path),
  vhd: (path, caches) => VhdLayer.open(path, caches),
  vhdx: (path, caches) => VhdxLayer.open(path, caches),
  vdi: (path, caches) => VdiLayer.open(path, caches),
};

/** Open `path` as `format` (probed when undefined) with every backing file below it. */
export async function openImageChain(path: string, format?: string): Promise<LayerStack> {
  const caches = newLayerCaches();
  const layers: ImageLayer[] = [];
  const seen = new Map<string, string>();
  try {
    let next: { path: string; format?: string; namedBy?: ImageLayer; name?: string } = { path, format };
    for (;;) {
      if (layers.length >= MAX_CHAIN_DEPTH) {
        throw new BlockError('EINVAL', `${path}: backing chain is deeper than ${MAX_CHAIN_DEPTH} images (at ${next.path})`);
      }
      const id = await fileIdentity(next.path, next.namedBy, next.name);
      const earlier = seen.get(id);
      if (earlier !== undefined) {
        const names = [...layers.map((l) => l.path), next.path].join(' -> ');
        throw new BlockError('EINVAL', `${next.namedBy!.path}: backing chain loops back to ${earlier}: ${names}`);
      }
      seen.set(id, next.path);
      layers.push(await openLayer(next.path, next.format, caches));
      const top = layers[layers.length - 1]!;
      if (!top.backing) break;
      next = {
        path: resolveRelatedFile(top.path, top.backing.name, 'backing file'),
        format: top.backing.format,
        namedBy: top,
        name: top.backing.name,
      };
    }
  } catch (err) {
    await Promise.allSettled(layers.map((l) => l.close()));
    throw err;
  }
  return new LayerStack(layers);
}

async function fileIdentity(path: string, namedBy?: ImageLayer, name?: string): Promise<string> {
  try {
    const st = await stat(path);
    return `${st.dev}:${st.ino}`;
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'EIO';
    const errno = code === 'ENOENT' ? 'ENOENT' : code === 'EACCES' ? 'EACCES' : 'EIO';
    if (namedBy) throw new BlockError(errno, `${namedBy.path}: backing file '${name}' (${path}) cannot be opened: ${code}`);
    throw new BlockError(errno, `${path}: cannot open image: ${code}`);
  }
}

async function openLayer(path: string, format: string | undefined, caches: LayerCaches): Promise<ImageLayer> {
  const name = format ?? (await probeFormat(path));
  const native = layerOpeners[name];
  if (native) return native(path, caches);
  const { imageFormats } = await import('./index.ts');
  const other = imageFormats.find((f) => f.name === name);
  if (!other) throw new BlockError('ENOTSUP', `${path}: unsupported image format '${name}'`);
  return PluginLayer.open(path, name, other.plugin);
}

/** The format of `path` from its first and last bytes; raw when nothing matches. */
export async function probeFormat(path: string): Promise<string> {
  const file = await ImageFile.open(path);
  try {
    const head = await file.read(0, Math.min(file.size, PROBE_HEAD), 'first bytes');
    const tailLength = Math.min(file.size, PROBE_TAIL);
    const tail = await file.read(file.size - tailLength, tailLength, 'last bytes');
    if (isQcow2(head)) return 'qcow2';
    if (isVmdk(head)) return 'vmdk';
    const { imageFormats } = await import('./index.ts');
    return imageFormats.find((f) => f.probe(head, tail, file.size))?.name ?? 'raw';
  } finally {
    await file.close();
  }
}
