// Seeds and run counts for the fast-check properties. `npm test` runs each property with a
// fixed seed and a modest count so the suite stays within minutes on two cores;
// `npm run fuzz -- --seed S --runs N` sets BLOCKSCOPE_FUZZ_SEED / BLOCKSCOPE_FUZZ_RUNS and
// the same properties run much longer. A failure prints fast-check's shrunk counterexample
// with the seed and path that replay it.
import type { Parameters } from 'fast-check';

const DEFAULT_SEED = 20261206;

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name}=${raw} is not an integer`);
  return value;
}

/** True when `npm run fuzz` drives the suite (long runs, no per-test time limit). */
export const FUZZING = process.env.BLOCKSCOPE_FUZZ_RUNS !== undefined;

/** fast-check parameters: `runs` cases in npm test, or what `npm run fuzz` asked for. */
export function propertyParams<T = unknown>(runs: number): Parameters<T> {
  return {
    seed: envNumber('BLOCKSCOPE_FUZZ_SEED') ?? DEFAULT_SEED,
    numRuns: envNumber('BLOCKSCOPE_FUZZ_RUNS') ?? runs,
    interruptAfterTimeLimit: envNumber('BLOCKSCOPE_FUZZ_SECONDS') ? envNumber('BLOCKSCOPE_FUZZ_SECONDS')! * 1000 : undefined,
    verbose: 0,
  };
}

/** A per-test timeout for vitest: generous in npm test, none while fuzzing. */
export function propertyTimeout(ms: number): number {
  return FUZZING ? 0 : ms;
}
