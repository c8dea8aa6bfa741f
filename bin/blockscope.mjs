#!/usr/bin/env node
// The `blockscope` command: runs the bundled CLI (built by `npm run build`, which `npm install`
// runs through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../out/cli/index.mjs', import.meta.url));
if (!existsSync(cli)) {
  console.error('blockscope: the CLI is not built yet; run `npm run build` in the blockscope folder');
  process.exit(1);
}
const { main } = await import(cli);
process.exitCode = await main(process.argv.slice(2));
