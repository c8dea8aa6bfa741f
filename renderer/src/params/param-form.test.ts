import { describe, expect, it } from 'vitest';
import { parseParams, type ParamSpec } from '../../../shared/params.ts';
import { draftFrom, fieldError, fieldGroups, missingRequired } from './param-form.ts';

const offsetSpecs: ParamSpec[] = [
  { key: 'offset', kind: 'offset', default: '0', description: '' },
  { key: 'range', kind: 'size', description: '' },
];
const delaySpecs: ParamSpec[] = [
  { key: 'rdelay', kind: 'duration', alias: 'delay-read', description: '' },
  { key: 'delay-read', kind: 'duration', description: '' },
  { key: 'delay-write', kind: 'duration', group: 'more', description: '' },
];
const partitionSpecs: ParamSpec[] = [{ key: 'partition', kind: 'int', required: true, min: 1, description: '' }];

function parseError(component: string, specs: ParamSpec[], raw: Record<string, string>): string {
  try {
    parseParams(component, specs, raw);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('parsed');
}

describe('fieldError', () => {
  it('puts a parser error on its field without "offset: offset:"', () => {
    expect(fieldError('offset', offsetSpecs, parseError('offset', offsetSpecs, { offset: 'x' }))).toEqual({
      key: 'offset',
      text: "'x' is not a size (examples: 512, 64K, 1M, 2G)",
    });
  });

  it('puts the engine’s window error on the field it blames', () => {
    expect(fieldError('offset', offsetSpecs, 'offset: range: the window ends at 96 MiB, past the end of the 64 MiB disk')).toEqual({
      key: 'range',
      text: 'the window ends at 96 MiB, past the end of the 64 MiB disk',
    });
  });

  it('says a missing required value is required, on its field', () => {
    expect(fieldError('partition', partitionSpecs, parseError('partition', partitionSpecs, {}))).toEqual({ key: 'partition', text: 'required' });
  });

  it('gives a one-field filter’s engine error to that field', () => {
    expect(fieldError('partition', partitionSpecs, 'partition: partition 9 not found; the disk has a GPT with partitions 1, 2')).toEqual({
      key: 'partition',
      text: 'partition 9 not found; the disk has a GPT with partitions 1, 2',
    });
  });

  it('leaves an error that blames no field under the form', () => {
    expect(fieldError('offset', offsetSpecs, 'offset: something else')).toEqual({ key: null, text: 'something else' });
  });

  it('blames an alias’s error on the field that shows it', () => {
    expect(fieldError('delay', delaySpecs, "delay: rdelay: 'x' is not a duration")).toEqual({ key: 'delay-read', text: "'x' is not a duration" });
  });
});

describe('the form’s fields', () => {
  it('lists required fields that have no value', () => {
    expect(missingRequired(partitionSpecs, {}).map((s) => s.key)).toEqual(['partition']);
    expect(missingRequired(partitionSpecs, { partition: '1' })).toEqual([]);
  });

  it('shows an alias once, common fields first and overrides under more', () => {
    const groups = fieldGroups(delaySpecs);
    expect(groups.common.map((s) => s.key)).toEqual(['delay-read']);
    expect(groups.more.map((s) => s.key)).toEqual(['delay-write']);
  });

  it('starts the draft with an alias’s value in its key’s field, the specific key winning', () => {
    expect(draftFrom(delaySpecs, { rdelay: '5ms' })).toEqual({ 'delay-read': '5ms' });
    expect(draftFrom(delaySpecs, { 'delay-read': '1ms', rdelay: '5ms' })).toEqual({ 'delay-read': '1ms' });
  });
});
