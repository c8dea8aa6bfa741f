import { describe, expect, it } from 'vitest';
import { parseParams } from '../../shared/params.ts';
import { perOpSpecs, resolvePerOp } from './per-op-params.ts';

const OPS = ['read', 'write'] as const;

describe('per-operation parameters', () => {
  it('make one spec per operation', () => {
    const specs = perOpSpecs(OPS, (op) => `x-${op}`, { kind: 'duration' }, (op) => `x for ${op}`);
    expect(specs).toEqual([
      { kind: 'duration', key: 'x-read', description: 'x for read' },
      { kind: 'duration', key: 'x-write', description: 'x for write' },
    ]);
  });

  it('resolve the most specific key given, else the fallback', () => {
    const specs = [{ key: 'x', kind: 'int' as const, description: '' }, ...perOpSpecs(OPS, (op) => `x-${op}`, { kind: 'int' }, () => '')];
    const params = parseParams('t', specs, { x: '1', 'x-write': '2' });
    expect(resolvePerOp<(typeof OPS)[number], number>(params, OPS, (op) => [`x-${op}`, 'x'], 0)).toEqual({ read: 1, write: 2 });
    expect(resolvePerOp<(typeof OPS)[number], number>({}, OPS, (op) => [`x-${op}`, 'x'], 7)).toEqual({ read: 7, write: 7 });
  });
});
