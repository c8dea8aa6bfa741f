// Whether an export asked to be writable really is: the NBD server advertises writes only
// when the top of the chain can write, so a qcow2 file (read-only here) served "writable" is
// read-only to every client. Serving asks here and says so, with what would make it writable,
// as the CLI's `serve --writable` does.
import { Chain } from '../backend/chain.ts';

export interface WriteRefusal {
  /** Why, and what would help, in words for the serving panel. */
  reason: string;
  /** Switching the cow filter on would make the export writable. */
  cowHelps: boolean;
}

/** Why `chain` refuses writes; null when it takes them. */
export async function writeRefusal(chain: Chain, format: string): Promise<WriteRefusal | null> {
  if (await canWrite(chain)) return null;
  if (chain.filters.some((f) => f.name === 'readonly')) return { reason: 'the readonly filter is on', cowHelps: false };
  if (!(await canWrite(new Chain(chain.plugin, [])))) {
    const what = format === 'nbd' ? 'the remote export' : format;
    return { reason: `${what} is read-only; add the cow filter for writes`, cowHelps: true };
  }
  return { reason: `the chain (${chain.layerNames.join(' → ')}) refuses writes`, cowHelps: false };
}

async function canWrite(chain: Chain): Promise<boolean> {
  const open = await chain.open({ readonly: false, exportName: '' });
  try {
    return open.top.canWrite();
  } finally {
    await open.close();
  }
}
