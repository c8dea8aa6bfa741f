// electron-builder.yml checked with electron-builder's own loader and schema, as a packaging
// run would check it (no packaging is possible on this machine). app-builder-lib/out/... is
// an internal path: electron-builder's version is pinned in package.json.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: unknown): Promise<Record<string, unknown>>;
  validateConfiguration(config: unknown, debugLogger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

const root = path.resolve(import.meta.dirname, '..', '..', '..');

async function validate(configPath: string): Promise<Record<string, unknown>> {
  const config = await getConfig(root, configPath, null);
  await validateConfiguration(config, new DebugLogger(false));
  return config;
}

it('passes electron-builder validation', async () => {
  const config = await validate(path.join(root, 'electron-builder.yml'));
  expect(config.appId).toBe('dev.blockscope.app');
  expect(config.asarUnpack).toEqual(['native/build/Release/*.node']);
  expect(config.npmRebuild).toBe(false);
});

it('has the Linux, macOS and Windows targets', async () => {
  const config = (await validate(path.join(root, 'electron-builder.yml'))) as Record<string, { target: string[] }>;
  expect([config.linux!.target, config.mac!.target, config.win!.target]).toEqual([['AppImage', 'deb'], ['dmg'], ['nsis']]);
});

it('would reject a misspelt key (the check is live)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bs-eb-'));
  try {
    const text = await readFile(path.join(root, 'electron-builder.yml'), 'utf8');
    const broken = path.join(dir, 'electron-builder.yml');
    await writeFile(broken, text.replace('npmRebuild:', 'npmRebuilt:'));
    await expect(validate(broken)).rejects.toThrow(/npmRebuilt/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
