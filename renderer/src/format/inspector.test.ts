import { describe, expect, it } from 'vitest';
import { asciiText, formatGuid, inspect, utf8Text } from './inspector.ts';

const valueOf = (bytes: number[], label: string) => inspect(Uint8Array.from(bytes)).find((r) => r.label === label);

describe('inspect', () => {
  it('reads one byte as unsigned and signed', () => {
    expect(valueOf([0xff], 'u8')).toEqual({ label: 'u8', le: '255' });
    expect(valueOf([0xff], 'i8')).toEqual({ label: 'i8', le: '-1' });
    expect(valueOf([0xff], 'u16')).toBeUndefined();
  });

  it('reads 16- and 32-bit integers in both byte orders', () => {
    // 0x0102 = 258 big-endian; 0x0201 = 513 little-endian.
    expect(valueOf([1, 2], 'u16')).toEqual({ label: 'u16', le: '513', be: '258' });
    expect(valueOf([0xfe, 0xff], 'i16')).toEqual({ label: 'i16', le: '-2', be: '-257' });
    // 0xdeadbeef = 3735928559; read backwards 0xefbeadde = 4022250974.
    expect(valueOf([0xde, 0xad, 0xbe, 0xef], 'u32')).toEqual({ label: 'u32', le: '4022250974', be: '3735928559' });
    expect(valueOf([0xde, 0xad, 0xbe, 0xef], 'i32')).toEqual({ label: 'i32', le: String(4022250974 - 2 ** 32), be: String(3735928559 - 2 ** 32) });
  });

  it('reads 64-bit integers exactly, past 2^53', () => {
    const bytes = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe];
    // LE: 0xfeffffffffffffff = 2^64 - 2^56 - 1; BE: 0xfffffffffffffffe = 2^64 - 2.
    expect(valueOf(bytes, 'u64')).toEqual({ label: 'u64', le: '18374686479671623679', be: '18446744073709551614' });
    expect(valueOf(bytes, 'i64')).toEqual({ label: 'i64', le: '-72057594037927937', be: '-2' });
  });

  it('reads IEEE floats', () => {
    // 1.0f is 0x3f800000; 1.0 double is 0x3ff0000000000000.
    expect(valueOf([0x00, 0x00, 0x80, 0x3f], 'f32')).toEqual({ label: 'f32', le: '1', be: String(4.600602988224807e-41) });
    expect(valueOf([0x3f, 0xf0, 0, 0, 0, 0, 0, 0], 'f64')?.be).toBe('1');
  });

  it('shows text of the bytes', () => {
    expect(valueOf([0x48, 0x69, 0x00, 0xc3, 0xa9], 'ASCII')?.le).toBe('Hi...');
    expect(valueOf([0x48, 0x69, 0x00, 0xc3, 0xa9], 'UTF-8')?.le).toBe('Hi.é');
  });

  it('answers nothing for no bytes', () => expect(inspect(new Uint8Array(0))).toEqual([]));
});

describe('formatGuid', () => {
  it('prints the EFI System partition type GUID from its on-disk bytes', () => {
    // C12A7328-F81F-11D2-BA4B-00A0C93EC93B as GPT stores it.
    const disk = [0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b];
    expect(formatGuid(Uint8Array.from(disk))).toBe('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  });

  it('needs sixteen bytes', () => expect(formatGuid(new Uint8Array(15))).toBeNull());
});

describe('text', () => {
  it('keeps printable ASCII only', () => expect(asciiText(Uint8Array.from([0x41, 0x7f, 0x20, 0x0a]))).toBe('A. .'));
  it('decodes UTF-8 with replacement for broken sequences', () => expect(utf8Text(Uint8Array.from([0xe2, 0x82, 0xac, 0xff]))).toBe('€\ufffd'));
});
