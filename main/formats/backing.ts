// Opens an image with its whole backing chain: each layer names the next, relative names
// resolve against the naming image's folder, the format comes from the image or is probed.
// A missing file, a loop (an image that is, directly or through others, its own backing
// file) or an absurdly deep chain is an error naming the images involved.
import { stat } from 'node:fs/promises';
import { BlockError } from '../backend/errors.ts';
import { isHttpUrl } from '../plugins/http/client.ts';
import { newLayerCaches, type ImageLayer, type LayerCaches } from './layer.ts';
import { LayerStack } from './layer-stack.ts';
import { resolveRelatedFile } from './related-file.ts';
import { formatNamed, probeImageFile } from './table.ts';

/** qemu has no limit; a chain deeper than this is far more likely a mistake or an attack. */
export const MAX_CHAIN_DEPTH = 64;

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
  // A URL names one object; a server cannot say that two URLs are the same file.
  if (isHttpUrl(path)) return path;
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
  const entry = format === undefined ? await probeImageFile(path) : formatNamed(format, path);
  return entry.openLayer(path, caches);
}
