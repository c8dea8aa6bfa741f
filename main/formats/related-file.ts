// Files an image names (backing files, external data files, VMDK extents) are resolved the
// way qemu resolves them: relative names against the folder of the image that names them, or
// against its URL when the image is at one. A local image naming a URL is refused: opening a
// file from disk should not make requests to whatever server it names.
import path from 'node:path';
import { BlockError } from '../backend/errors.ts';
import { isHttpUrl } from '../plugins/http/client.ts';
import { ImageFile } from './image-file.ts';

export function resolveRelatedFile(imagePath: string, name: string, what: string): string {
  if (name.includes('\0')) throw new BlockError('EINVAL', `${imagePath}: ${what} name contains a NUL byte`);
  if (isHttpUrl(imagePath)) {
    // An image from a server never reaches into this machine's files (file:///etc/...).
    const url = new URL(name, imagePath).href;
    if (!isHttpUrl(url)) throw new BlockError('ENOTSUP', `${imagePath}: ${what} '${name}' is not an http(s) URL`);
    return url;
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(name) && !/^[a-z]:[\\/]/i.test(name)) {
    throw new BlockError('ENOTSUP', `${imagePath}: ${what} '${name}' is not a local file (protocol and json: names are not supported)`);
  }
  return path.resolve(path.dirname(imagePath), name);
}

/** Open a file an image names; a missing file is an error naming both files. */
export async function openRelatedFile(imagePath: string, name: string, what: string): Promise<ImageFile> {
  const resolved = resolveRelatedFile(imagePath, name, what);
  try {
    return await ImageFile.open(resolved);
  } catch (err) {
    if (err instanceof BlockError) throw err;
    const code = (err as { code?: string }).code ?? 'EIO';
    throw new BlockError(code === 'ENOENT' ? 'ENOENT' : 'EIO', `${imagePath}: ${what} '${name}' (${resolved}) cannot be opened: ${code}`);
  }
}
