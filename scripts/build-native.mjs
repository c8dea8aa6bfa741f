// Builds the optional N-API addon (native/). A failed build is not fatal: the file plugin
// falls back to pure JS (no hole detection, zeroes written instead of punched), and says so.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync } from 'node:fs';

const native = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'native');
if (process.platform !== 'linux') {
  console.log('blockscope: native addon is Linux-only; using the pure-JS file I/O fallback');
  process.exit(0);
}
// npm ships node-gyp; find it beside the npm that runs us (or the one on PATH).
function npmCliPath() {
  if (process.env.npm_execpath) return process.env.npm_execpath;
  const which = spawnSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], { encoding: 'utf8' });
  return which.stdout.trim();
}
const gyp = path.join(path.dirname(npmCliPath()), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
// npm here is configured with nodedir (Node's own headers): node-gyp must not try to download them.
let nodedir = process.env.npm_config_nodedir;
if (!nodedir) nodedir = spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' }).stdout?.trim();
const gypArgs = [gyp, 'rebuild', ...(nodedir && nodedir !== 'undefined' ? [`--nodedir=${nodedir}`] : [])];
const r = existsSync(gyp)
  ? spawnSync(process.execPath, gypArgs, { cwd: native, stdio: ['ignore', 'ignore', 'inherit'] })
  : { status: 1 };
if (r.status !== 0) {
  console.log('blockscope: native addon did not build; using the pure-JS file I/O fallback');
}
