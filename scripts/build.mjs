// Builds everything that runs outside the test runner: the CLI (also the headless engine),
// the Electron main and preload bundles, and the renderer. Entries that do not exist yet are
// skipped with a note, so a partial tree still builds.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = (p) => path.join(root, p);
const quiet = process.argv.includes('--quiet');
const note = (m) => quiet || console.log(`build: ${m}`);

const nodeBundles = [
  // The CLI is ESM so it can import the engine directly; node builtins stay external.
  { entry: 'main/hosts/cli/index.ts', out: 'out/cli/index.mjs', format: 'esm', external: ['electron'] },
  // Electron wants CommonJS for the main entry and (sandboxed) one self-contained preload file.
  { entry: 'main/hosts/electron/main.ts', out: 'out/main/index.cjs', format: 'cjs', external: ['electron'] },
  { entry: 'preload/index.ts', out: 'out/preload/index.cjs', format: 'cjs', external: ['electron'] },
];

for (const b of nodeBundles) {
  if (!existsSync(at(b.entry))) {
    note(`skipping ${b.entry} (not present)`);
    continue;
  }
  await build({
    entryPoints: [at(b.entry)],
    outfile: at(b.out),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: b.format,
    external: b.external,
    sourcemap: true,
    logLevel: 'warning',
    // ESM bundles that contain CommonJS dependencies (ws) need a real require().
    banner: b.format === 'esm' ? { js: "import { createRequire as __bsCreateRequire } from 'node:module'; const require = __bsCreateRequire(import.meta.url);" } : undefined,
  });
  note(`${b.entry} -> ${b.out}`);
}

if (existsSync(at('renderer/vite.config.ts')) && !process.argv.includes('--no-renderer')) {
  const r = spawnSync(process.execPath, [at('node_modules/vite/bin/vite.js'), 'build', '--config', at('renderer/vite.config.ts'), '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  note('renderer -> out/renderer');
}
