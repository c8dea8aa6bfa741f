// npm run fuzz -- [--seed S] [--runs N] [--seconds T] [FILTER...]
// Runs every property of the suite (files named *.prop.test.ts: data paths against their
// oracles, the write-path model, the NBD protocol fuzzer) with a chosen seed and many more
// cases than npm test uses. FILTER narrows to test files whose path contains it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const env = { ...process.env };
const filters = [];
const usage = 'usage: npm run fuzz -- [--seed S] [--runs N] [--seconds T] [FILTER...]';
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => {
    const v = args[++i];
    if (v === undefined || !/^\d+$/.test(v)) {
      console.error(`${a} needs a whole number\n${usage}`);
      process.exit(2);
    }
    return v;
  };
  if (a === '--seed') env.BLOCKSCOPE_FUZZ_SEED = value();
  else if (a === '--runs') env.BLOCKSCOPE_FUZZ_RUNS = value();
  else if (a === '--seconds') env.BLOCKSCOPE_FUZZ_SECONDS = value();
  else if (a === '--help' || a === '-h') {
    console.log(usage);
    process.exit(0);
  } else filters.push(a);
}
env.BLOCKSCOPE_FUZZ_SEED ??= String(Date.now() % 2 ** 31);
// With only a time budget, run as many cases as fit in it.
env.BLOCKSCOPE_FUZZ_RUNS ??= env.BLOCKSCOPE_FUZZ_SECONDS ? String(2 ** 31 - 1) : '1000';
console.log(`fuzz: seed ${env.BLOCKSCOPE_FUZZ_SEED}, ${env.BLOCKSCOPE_FUZZ_RUNS} runs per property` +
  (env.BLOCKSCOPE_FUZZ_SECONDS ? `, at most ${env.BLOCKSCOPE_FUZZ_SECONDS} s each` : ''));

const build = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--no-renderer', '--quiet'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const patterns = filters.length ? filters.map((f) => `${f}`) : ['.prop.test.ts'];
const vitest = spawnSync(path.join(root, 'node_modules/.bin/vitest'),
  ['run', '--testTimeout=0', '--hookTimeout=0', ...patterns], { stdio: 'inherit', env, cwd: root });
process.exit(vitest.status ?? 1);
