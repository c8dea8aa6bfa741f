import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { expect, it } from 'vitest';
import { mirrorFiles, stageElectronPackage, standInElectronZip, useScratch } from './electron-mirror-testing.ts';
import { chooseElectron, launch } from './launch.ts';

const PROJECT = process.cwd();
const { tempDir, mirror: mirrorOf } = useScratch('bs-launch-');

/** This process's environment without anything that steers Electron's installer, plus `extra`. */
function envWith(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/electron/i.test(k)));
  return { ...base, ...extra };
}

/** The real CLI, as `npm run build` bundles it, placed in `appRoot` (it finds its app folder from there). */
async function installCli(appRoot: string): Promise<void> {
  mkdirSync(path.join(appRoot, 'bin'), { recursive: true });
  copyFileSync(path.join(PROJECT, 'bin', 'blockscope.mjs'), path.join(appRoot, 'bin', 'blockscope.mjs'));
  // The same options as scripts/build.mjs gives the CLI bundle.
  await build({
    entryPoints: [path.join(PROJECT, 'main', 'hosts', 'cli', 'index.ts')],
    outfile: path.join(appRoot, 'out', 'cli', 'index.mjs'),
    bundle: true, platform: 'node', target: 'node20', format: 'esm', external: ['electron'], logLevel: 'error',
    banner: { js: "import { createRequire as __bsCreateRequire } from 'node:module'; const require = __bsCreateRequire(import.meta.url);" },
  });
}

function runCli(appRoot: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(appRoot, 'bin', 'blockscope.mjs'), ...args], { cwd: appRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

it('blockscope app fetches Electron from the mirror once, then opens the window on the images', async () => {
  const root = tempDir();
  const pkg = stageElectronPackage(PROJECT, root);
  await installCli(root);
  const record = path.join(root, 'record');
  const mirror = await mirrorOf(mirrorFiles(pkg.version, standInElectronZip(pkg.version, record)));
  const image = path.join(root, 'disk.img');
  writeFileSync(image, Buffer.alloc(64 * 1024));
  const env = envWith({ ELECTRON_MIRROR: mirror.url, electron_use_remote_checksums: '1', electron_config_cache: path.join(root, 'cache'), ELECTRON_RUN_AS_NODE: '1' });

  const first = await runCli(root, ['app', image, 'nbd://127.0.0.1/x'], env);

  expect(first.status).toBe(0);
  const lines = first.stderr.trimEnd().split('\n');
  expect(lines[0]).toBe(`blockscope: fetching Electron ${pkg.version} (one time, ~100 MB) from ${new URL(mirror.url).host} ...`);
  expect(lines.slice(1)).toEqual([expect.stringMatching(new RegExp(`^blockscope: Electron ${pkg.version.replace(/\./g, '\\.')} is ready \\(\\d+ s\\)$`))]);
  expect(readFileSync(`${record}.args`, 'utf8')).toBe(`${root}\n--\n${image}\nnbd://127.0.0.1/x\n`);
  const appEnv = readFileSync(`${record}.env`, 'utf8');
  expect(appEnv).toContain(`ELECTRON_MIRROR=${mirror.url}\n`);
  expect(appEnv).not.toMatch(/^ELECTRON_RUN_AS_NODE=/m);
  expect(mirror.requests).toHaveLength(2);

  rmSync(`${record}.args`);
  const second = await runCli(root, ['app', image], env);

  expect(second).toEqual({ status: 0, stderr: '' });
  expect(readFileSync(`${record}.args`, 'utf8')).toBe(`${root}\n--\n${image}\n`);
  expect(mirror.requests).toHaveLength(2);
});

it('falls back to the browser UI on the demo image when the mirror has no such release, saying why in one line', async () => {
  const root = tempDir();
  const pkg = stageElectronPackage(PROJECT, root);
  const mirror = await mirrorOf(new Map());
  const lines: string[] = [];
  const env = envWith({ ELECTRON_MIRROR: mirror.url, electron_config_cache: path.join(root, 'cache') });
  const launched = await launch({ images: [], appDir: root, env, log: (l) => lines.push(l), uiPort: 0 });
  try {
    expect(launched.kind).toBe('browser');
    const host = new URL(mirror.url).host;
    expect(lines.slice(0, 2)).toEqual([
      `blockscope: fetching Electron ${pkg.version} (one time, ~100 MB) from ${host} ...`,
      `blockscope: no Electron binary on this machine (could not fetch Electron ${pkg.version} from ${host}: Response code 404 (Not Found) for ${mirror.url}v${pkg.version}/electron-v${pkg.version}-${process.platform}-${process.arch}.zip); opening the browser UI instead`,
    ]);
    expect(lines.at(-1)).toMatch(/^blockscope: browser UI at http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    if (launched.kind === 'browser') expect(launched.host.session.list().map((i) => i.demo)).toEqual([true]);
  } finally {
    if (launched.kind === 'browser') await launched.host.close();
  }
});

it('chooses the browser UI when the download outlasts the timeout', async () => {
  const root = tempDir();
  const pkg = stageElectronPackage(PROJECT, root);
  const mirror = await mirrorOf('hang');
  const lines: string[] = [];
  const env = envWith({ ELECTRON_MIRROR: mirror.url, electron_config_cache: path.join(root, 'cache'), BLOCKSCOPE_ELECTRON_FETCH_TIMEOUT: '1' });

  const choice = await chooseElectron({ appDir: root, env, log: (l) => lines.push(l) });

  expect(choice).toEqual({ reason: `could not fetch Electron ${pkg.version} from ${new URL(mirror.url).host}: timed out after 1 s (BLOCKSCOPE_ELECTRON_FETCH_TIMEOUT sets the limit in seconds)` });
  expect(lines).toHaveLength(1);
});

it('neither fetches nor asks the network when ELECTRON_SKIP_BINARY_DOWNLOAD is set', async () => {
  const root = tempDir();
  stageElectronPackage(PROJECT, root);
  const lines: string[] = [];
  const choice = await chooseElectron({ appDir: root, env: envWith({ ELECTRON_SKIP_BINARY_DOWNLOAD: '1' }), log: (l) => lines.push(l) });
  expect(choice).toEqual({ reason: 'ELECTRON_SKIP_BINARY_DOWNLOAD is set' });
  expect(lines).toEqual([]);
});

it('says so when the app folder has no electron package at all', async () => {
  const choice = await chooseElectron({ appDir: tempDir(), env: envWith({}), log: () => undefined });
  expect(choice).toEqual({ reason: 'the electron package is not installed' });
});
