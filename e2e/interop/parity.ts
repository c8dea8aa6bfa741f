// Differential runs against Debian's nbdkit: the same command line (plugin, filters and their
// parameters, nbdkit's spelling) served by nbdkit and by `blockscope serve`, the same nbdsh
// script run against each, and the two outputs returned for the test to compare. The script
// should print what it learns (bytes as hex or digests, maps, errno names), one fact a line,
// so a failing comparison shows the first line that differs.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { nbdsh, run, serve, tempDir } from './harness.ts';

/** One side's view: what the script printed, or how it failed. */
export interface ParityOutput {
  ok: boolean;
  output: string;
}

/**
 * The words after `nbdkit` / `blockscope serve`: filters as `--filter=NAME`, then the plugin,
 * then key=value parameters (plugin's and filters' mixed, as both CLIs take them).
 * Add `-r` for read-only; both servers serve writable by default here.
 */
export type ParityArgs = readonly string[];

/** Run `script` (Python, `h` is the connected handle) against nbdkit serving `args`. */
export async function underNbdkit(args: ParityArgs, script: string): Promise<ParityOutput> {
  const { dir, cleanup } = tempDir('blockscope-parity-');
  const file = path.join(dir, 'script.py');
  writeFileSync(file, script);
  try {
    // --run starts the client once the server listens and tears the server down after it.
    const r = await run('nbdkit', ['-U', '-', ...args, '--run', `nbdsh --base-allocation -u "$uri" -c "exec(open('${file}').read())"`], { timeoutMs: 120_000 });
    return { ok: r.code === 0, output: (r.code === 0 ? r.stdout : `${r.stdout}${r.stderr}`).trim() };
  } finally {
    cleanup();
  }
}

/** The same against `blockscope serve -f --writable`. */
export async function underBlockscope(args: ParityArgs, script: string): Promise<ParityOutput> {
  const readOnly = args.includes('-r') || args.includes('--readonly');
  const served = await serve([...(readOnly ? [] : ['--writable']), ...args.filter((a) => a !== '-r' && a !== '--readonly')]);
  try {
    return { ok: true, output: (await nbdsh(served.uri, script, ['--base-allocation'])).trim() };
  } catch (err) {
    return { ok: false, output: `${(err as Error).message}\n${served.stderr()}`.trim() };
  } finally {
    await served.stop();
  }
}

/** Both sides at once (they are separate processes). */
export async function underBoth(args: ParityArgs, script: string): Promise<{ ours: ParityOutput; nbdkit: ParityOutput }> {
  const [ours, nbdkit] = await Promise.all([underBlockscope(args, script), underNbdkit(args, script)]);
  return { ours, nbdkit };
}

/**
 * A Python helper block for scripts: `show(label, value)` prints one line; `attempt(f)` runs
 * f and returns its result or the errno name of the nbd.Error it raised, so refusals compare
 * by name (EPERM, EIO, ENOSPC...) rather than by message text, which differs between servers.
 */
export const PY_HELPERS = `
import errno, hashlib, nbd
def show(label, value):
    print(f"{label}: {value}")
def attempt(f):
    try:
        r = f()
        return "ok" if r is None else r
    except nbd.Error as e:
        return errno.errorcode.get(e.errnum, str(e.errnum)) if e.errnum else "error"
def digest(b):
    return hashlib.sha256(b).hexdigest()[:16]
def extents(h, length, offset=0, flags=0):
    out = []
    def cb(meta, off, ents, err):
        if meta == nbd.CONTEXT_BASE_ALLOCATION:
            out.extend(zip(ents[0::2], ents[1::2]))
    h.block_status(length, offset, cb, flags)
    return out
`;
