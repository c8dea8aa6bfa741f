import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateData } from './evaluate.ts';
import { parseData } from './parse.ts';

const env = { variable: (name: string) => ({ pattern: '0x55 0xAA' } as Record<string, string>)[name] };

/** The image as one buffer (later pieces over earlier ones, as the plugin stores them). */
function bytesOf(text: string): Buffer {
  const image = evaluateData(text, env);
  const out = Buffer.alloc(image.size);
  for (const p of image.pieces) p.data.copy(out, p.offset);
  return out;
}

const hex = (text: string) => bytesOf(text).toString('hex');

describe('data format', () => {
  it('bytes in decimal, octal and hex', () => {
    expect(hex('0 1 2 3 010 0x1f 255')).toBe('00010203081fff');
  });

  it('rejects a byte over 255 (0777 is octal 511)', () => {
    expect(() => parseData('0777')).toThrow(/0\.\.255/);
  });

  it('@offset moves and extends the size', () => {
    expect(bytesOf('0 1 2 3 @0x1fe 0x55 0xaa').length).toBe(512);
    expect(hex('1 @4')).toBe('01000000');
    expect(hex('1 @+2 2')).toBe('01000002');
  });

  it('@-n moves back and later bytes overwrite', () => {
    expect(hex('1 2 3 @-2')).toBe('010203');
    expect(hex('1 2 3 @-2 9')).toBe('010903');
    expect(() => evaluateData('@-1', env)).toThrow(/before the start/);
  });

  it('@^n aligns forward', () => {
    expect(bytesOf('1 @^512').length).toBe(512);
    expect(hex('1 2 3 @^4 4')).toBe('0102030004');
    expect(hex('0 1 2 3 @^0x200 @-2 le16:0xaa55').slice(-4)).toBe('55aa');
  });

  it('le/be words of 16, 32 and 64 bits', () => {
    expect(hex('be32:0x1')).toBe('00000001');
    expect(hex('le32:0x7ff')).toBe('ff070000');
    expect(hex('le16:0xaa55 be16:0xaa55')).toBe('55aaaa55');
    expect(hex('be64:0x0102030405060708 le64:1')).toBe('01020304050607080100000000000000');
    expect(() => parseData('le16:0x10000')).toThrow(/16 bits/);
  });

  it('strings with C escapes', () => {
    expect(bytesOf('"Hello"').toString()).toBe('Hello');
    expect([...bytesOf('"a\\"b\\n\\t\\\\"')]).toEqual([0x61, 0x22, 0x62, 0x0a, 0x09, 0x5c]);
    expect(() => parseData('"abc')).toThrow(/unterminated string/);
  });

  it('* repeats an expression, a group or a string', () => {
    expect(hex('0xff*4')).toBe('ffffffff');
    expect(hex('( 0x55 0xAA )*3')).toBe('55aa55aa55aa');
    expect(hex('"ab"*2')).toBe('61626162');
    expect(hex('1*0')).toBe('');
  });

  it('groups keep offsets relative and their size includes moves', () => {
    expect(hex('(1 2 @^8)*2')).toBe('01020000000000000102000000000000');
    expect(hex('(1 @4)*2')).toBe('0100000001000000');
    expect(hex('5 ( @1 7 )')).toBe('050007');
  });

  it('[a:b] slices', () => {
    expect(hex('(1 2 3 4)[1:3]')).toBe('0203');
    expect(hex('(1 2 3 4)[:2]')).toBe('0102');
    expect(hex('(1 2 3 4)[2:]')).toBe('0304');
  });

  it('-> \\name assigns without writing, \\name pastes', () => {
    const sector = bytesOf(' ( 0x55 0xAA ) -> \\boot-signature ( @0x1fe \\boot-signature ) -> \\sector \\sector \\sector ');
    expect(sector.length).toBe(1024);
    expect(sector.subarray(510, 512).toString('hex')).toBe('55aa');
    expect(sector.subarray(1022).toString('hex')).toBe('55aa');
    expect(() => evaluateData('\\nope', env)).toThrow(/not defined/);
  });

  it('names are scoped to their group', () => {
    expect(() => evaluateData('( 1 -> \\one ) \\one', env)).toThrow(/not defined/);
    expect(hex('1 -> \\one ( \\one \\one )')).toBe('0101');
  });

  it('$var substitutes a nested expression', () => {
    expect(hex('$pattern*2')).toBe('55aa55aa');
    expect(() => evaluateData('$unset', env)).toThrow(/not set/);
  });

  it('# comments run to the end of the line', () => {
    expect(hex('1 # 2 3\n 4')).toBe('0104');
  });

  it('<(script) substitutes its output, sliced without running forever', () => {
    expect(bytesOf('<(printf abc)').toString()).toBe('abc');
    expect(bytesOf(' <( i=0; while :; do printf "%04d" $i; i=$((i+1)); done )[:12] ').toString()).toBe('000000010002');
  });

  it('reports unmatched parentheses', () => {
    expect(() => parseData('( 1 2')).toThrow(/'\)'/);
    expect(() => parseData('1 )')).toThrow(/unmatched/);
  });
});

describe('data format files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'blockscope-data-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('<file pastes a file and [:n] reads only a prefix', () => {
    const f = path.join(dir, 'f1');
    writeFileSync(f, 'xyz');
    expect(hex(`<${f} @^4 <${f}`)).toBe('78797a0078797a');
    expect(bytesOf('</dev/urandom[:512]*4').length).toBe(2048);
    const r = bytesOf('</dev/urandom[:16]*2');
    expect(r.subarray(0, 16).equals(r.subarray(16))).toBe(true);
  });
});
