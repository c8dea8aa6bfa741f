// Differencing formats (VHD, VHDX) name their parent several ways at once: a relative path,
// a Windows absolute path, a Mac URL. The first that exists on this host wins. A Windows
// absolute path cannot exist here, so the file of that name beside the child is tried
// instead (chains are usually moved as one folder). A child at a URL has its parent beside it
// at the URL the same names resolve to.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isHttpUrl } from '../plugins/http/client.ts';

export function parentCandidates(childPath: string, reference: string): string[] {
  if (isHttpUrl(childPath)) return remoteParentCandidates(childPath, reference);
  const folder = path.dirname(childPath);
  if (!reference.includes('\\') && !/^[A-Za-z]:/.test(reference)) return [path.resolve(folder, reference)];
  const slashed = reference.replace(/\\/g, '/');
  if (/^[A-Za-z]:/.test(slashed) || slashed.startsWith('//')) return [path.join(folder, path.posix.basename(slashed))];
  return [path.resolve(folder, slashed)];
}

function remoteParentCandidates(childUrl: string, reference: string): string[] {
  const slashed = reference.replace(/\\/g, '/');
  const windows = /^[A-Za-z]:/.test(slashed) || slashed.startsWith('//');
  return [new URL(windows ? path.posix.basename(slashed) : slashed, childUrl).href];
}

async function exists(p: string): Promise<boolean> {
  // Asking a server would cost a request per candidate; the open that follows says if it is there.
  if (isHttpUrl(p)) return true;
  return stat(p).then((st) => st.isFile() || st.isBlockDevice(), () => false);
}

/**
 * The parent to open: the first candidate of the references (best first) that exists, else
 * the first candidate, so that opening it fails with a message naming child and parent.
 */
export async function chooseParent(childPath: string, references: readonly string[]): Promise<string | undefined> {
  const candidates = references.filter((r) => r !== '').flatMap((r) => parentCandidates(childPath, r));
  for (const c of candidates) if (await exists(c)) return c;
  return candidates[0];
}
