import { describe, expect, expectTypeOf, it } from 'vitest';
import { parseParams } from './params.ts';

describe('ParamsOf (parameter types derived from the specs)', () => {
  it('types each declared key from its kind, required or defaulted keys as always present', () => {
    const specs = [
      { key: 'offset', kind: 'offset', default: '0', description: '' },
      { key: 'range', kind: 'size', description: '' },
      { key: 'file', kind: 'path', required: true, description: '' },
      { key: 'cow-on-read', kind: 'bool', default: 'false', description: '' },
      { key: 'error', kind: 'enum', values: ['EIO', 'EPERM'], default: 'EIO', description: '' },
    ] as const;
    const params = parseParams('t', specs, { file: 'x', range: '1K' });
    expectTypeOf(params.offset).toEqualTypeOf<number>();
    expectTypeOf(params.range).toEqualTypeOf<number | undefined>();
    expectTypeOf(params.file).toEqualTypeOf<string>();
    expectTypeOf(params['cow-on-read']).toEqualTypeOf<boolean>();
    expectTypeOf(params.error).toEqualTypeOf<'EIO' | 'EPERM'>();
    expect(params).toEqual({ file: 'x', range: 1024, offset: 0, 'cow-on-read': false, error: 'EIO' });
  });
});
