// Builds everything that runs outside the test runner: the CLI (also the headless engine),
// the Electron main and preload bundles, and the renderer. Entries that do not exist yet are
// skipped with a note, so a partial tree still builds.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = (p) => path.join(root, p);
const quiet = process.argv.includes('--quiet');
const note = (m) => quiet || console.log(`build: ${m}`);

const nodeBundles = [
  // The CLI is ESM so it can import the engine directly; node builtins stay external. Split at
  // its per-command dynamic imports, chunks beside index.mjs (import.meta.url paths hold), so a
  // short command parses only its own code.
  { entry: 'main/hosts/cli/index.ts', out: 'out/cli/index.mjs', format: 'esm', external: ['electron'], split: true },
  // Electron wants CommonJS for the main entry and (sandboxed) one self-contained preload file.
  // Its import.meta.url is made from __filename (modules find files beside themselves by it).
  { entry: 'main/hosts/electron/main.ts', out: 'out/main/index.cjs', format: 'cjs', external: ['electron'], importMetaUrl: true },
  { entry: 'preload/index.ts', out: 'out/preload/index.cjs', format: 'cjs', external: ['electron'] },
];

for (const b of nodeBundles) {
  if (!existsSync(at(b.entry))) {
    note(`skipping ${b.entry} (not present)`);
    continue;
  }
  const result = await build({
    entryPoints: [at(b.entry)],
    ...(b.split
      ? { outdir: path.dirname(at(b.out)), entryNames: path.basename(b.out, '.mjs'), chunkNames: 'chunk-[hash]', outExtension: { '.js': '.mjs' }, splitting: true, metafile: true }
      : { outfile: at(b.out) }),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: b.format,
    external: b.external,
    sourcemap: true,
    logLevel: 'warning',
    // ESM bundles that contain CommonJS dependencies (ws) need a real require().
    banner: b.format === 'esm'
      ? { js: "import { createRequire as __bsCreateRequire } from 'node:module'; const require = __bsCreateRequire(import.meta.url);" }
      : b.importMetaUrl ? { js: "const __bsImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" } : undefined,
    define: b.importMetaUrl ? { 'import.meta.url': '__bsImportMetaUrl' } : undefined,
  });
  if (b.split) removeStaleChunks(path.dirname(at(b.out)), new Set(Object.keys(result.metafile.outputs).map((o) => path.basename(o))));
  note(`${b.entry} -> ${b.out}`);
}

/**
 * A changed chunk gets a new hash; the chunks no build writes any more go once they are ten
 * minutes old (a CLI started from an earlier build may still be about to import its own).
 */
function removeStaleChunks(dir, current) {
  const tenMinutesAgo = Date.now() - 600_000;
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (/^chunk-.*\.mjs(\.map)?$/.test(name) && !current.has(name) && statSync(file).mtimeMs < tenMinutesAgo) rmSync(file, { force: true });
  }
}

// The TLS worker thread's module (main/nbd/tls-worker.mjs, plain JavaScript) is loaded by
// path, beside the bundle that starts it; esbuild does not follow a Worker's URL.
for (const dir of ['out/cli', 'out/main']) {
  mkdirSync(at(dir), { recursive: true });
  copyFileSync(at('main/nbd/tls-worker.mjs'), at(`${dir}/tls-worker.mjs`));
}
note('main/nbd/tls-worker.mjs -> out/cli, out/main');

if (existsSync(at('renderer/vite.config.ts')) && !process.argv.includes('--no-renderer')) {
  const r = spawnSync(process.execPath, [at('node_modules/vite/bin/vite.js'), 'build', '--config', at('renderer/vite.config.ts'), '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  note('renderer -> out/renderer');
}
