// fast-check parameters for the interop properties, which start real servers and clients
// (seconds per case on two shared cores).
import type { Parameters } from 'fast-check';
import { FUZZING, propertyParams } from '../../main/testing/property-params.ts';

/**
 * `propertyParams(runs)` plus a wall-clock budget in npm test: on a loaded machine, or
 * while a failure shrinks, fast-check stops at `budgetMs` and still reports the smallest
 * counterexample found so far, instead of vitest killing the test with no report. Runs
 * that pass before the budget is spent are what the property checked.
 */
export function budgetedParams<T = unknown>(runs: number, budgetMs: number): Parameters<T> {
  const params = propertyParams<T>(runs);
  return FUZZING ? params : { ...params, interruptAfterTimeLimit: budgetMs };
}
