import { describe, expect, it } from 'vitest';
import type { PartitionInfo } from '../../../shared/ipc.ts';
import { partitionLabel, partitionSpans } from './overlay.ts';
import { partitionAt } from '../../../shared/ipc.ts';

const MiB = 2 ** 20;
const efi: PartitionInfo = { number: 1, start: MiB, length: 7 * MiB, type: 'C12A7328', typeName: 'EFI System', name: '', filesystem: { type: 'vfat', label: 'ESP' } };
const root: PartitionInfo = { number: 2, start: 8 * MiB, length: 8 * MiB, type: '0FC63DAF', typeName: 'Linux filesystem', name: 'root' };

describe('partitionLabel', () => {
  it('uses the GPT name, else the type name, and adds the filesystem and its label', () => {
    expect(partitionLabel(efi)).toBe('p1 EFI System · vfat “ESP”');
    expect(partitionLabel(root)).toBe('p2 root');
  });
});

describe('partitionSpans', () => {
  it('places partitions on a 160-pixel map of a 16 MiB disk', () => {
    expect(partitionSpans([efi, root], { start: 0, end: 16 * MiB }, 160).map((s) => [s.number, s.x0, s.x1])).toEqual([
      [1, 10, 80],
      [2, 80, 160],
    ]);
  });

  it('clips to the view and drops partitions outside it', () => {
    expect(partitionSpans([efi, root], { start: 10 * MiB, end: 12 * MiB }, 100).map((s) => [s.number, s.x0, s.x1])).toEqual([[2, 0, 100]]);
  });
});

describe('partitionAt', () => {
  it('finds the partition holding an offset, with exclusive ends', () => {
    expect(partitionAt([efi, root], 8 * MiB - 1)?.number).toBe(1);
    expect(partitionAt([efi, root], 8 * MiB)?.number).toBe(2);
    expect(partitionAt([efi, root], 0)).toBeNull();
  });
});
