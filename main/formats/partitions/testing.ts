// Test support shared by the partition, filesystem, filter and demo tests: real tools as
// oracles, small temp images, and a ReadAt over a file. A missing tool is a failure that
// names the Debian package to install, never a silent skip.
import { execFileSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import type { ReadAt } from './types.ts';

const SBIN_PATH = `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/sbin:/sbin`;

/** Run a tool and return its stdout; throws with stderr when it fails or is missing. */
export function runTool(tool: string, args: readonly string[], debianPackage: string, input?: string): string {
  try {
    return execFileSync(tool, args, { encoding: 'utf8', input, env: { ...process.env, PATH: SBIN_PATH, LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string; stdout?: string };
    if (e.code === 'ENOENT') throw new Error(`${tool} is not installed: apt-get install ${debianPackage}`, { cause: err });
    throw new Error(`${tool} ${args.join(' ')} failed: ${e.stderr ?? ''}${e.stdout ?? ''}`, { cause: err });
  }
}

export { tempDir } from '../../temp-dir.ts';

/** A ReadAt over a file, opened for each read so tests need no close. */
export function fileReadAt(file: string): ReadAt {
  return async (offset, length) => {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      if (bytesRead !== length) throw new Error(`${file}: short read at ${offset}`);
      return buf;
    } finally {
      await fh.close();
    }
  };
}
