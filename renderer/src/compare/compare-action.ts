// compare.run from the diff view: what the user typed (a path or an nbd:// URI) against the
// open image. A failure goes to the window's error banner, as app/actions.ts does it.
import type { CompareRun } from '../../../shared/ipc.ts';
import { isNbdUri } from '../../../shared/nbd-uri.ts';
import { useApp } from '../store/store.ts';
import { transport } from '../transport/index.ts';

export async function runCompare(imageId: string, other: string, strict: boolean): Promise<CompareRun | undefined> {
  const target = other.trim();
  try {
    const run = await transport().invoke('compare.run', { imageId, other: isNbdUri(target) ? { uri: target } : { path: target }, strict });
    useApp.getState().clearError('compare');
    return run;
  } catch (e) {
    useApp.getState().setError(`Compare with ${target}: ${(e as Error).message}`, 'compare');
    return undefined;
  }
}
