// VHDX on-disk structures (Microsoft "VHDX Format Specification v1.00"): file identifier,
// the two headers, the region table and the metadata table. All numbers are little-endian,
// GUIDs are Microsoft GUIDs, checksums CRC-32C with the checksum field counted as zero.
import { BlockError } from '../../backend/errors.ts';
import { crc32cWithFieldZeroed } from '../crc32c.ts';
import { guidFromBytes } from '../partitions/guid.ts';

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const HEADER_OFFSETS = [64 * KiB, 128 * KiB] as const;
export const HEADER_BYTES = 4 * KiB;
export const REGION_TABLE_OFFSETS = [192 * KiB, 256 * KiB] as const;
export const REGION_TABLE_BYTES = 64 * KiB;
const MAX_TABLE_ENTRIES = 2047;

export const REGION_BAT = '2DC27766-F623-4200-9D64-115E9BFD4A08';
export const REGION_METADATA = '8B7CA206-4790-4B9A-B8FE-575F050F886E';
export const ITEM_FILE_PARAMETERS = 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B';
export const ITEM_VIRTUAL_DISK_SIZE = '2FA54224-CD1B-4876-B211-5DBED83BF4B8';
export const ITEM_PAGE_83 = 'BECA12AB-B2E6-4523-93EF-C309E000C746';
export const ITEM_LOGICAL_SECTOR_SIZE = '8141BF1D-A96F-4709-BA47-F233A8FAAB5F';
export const ITEM_PHYSICAL_SECTOR_SIZE = 'CDA348C7-445D-4471-9CC9-E9885251C556';
export const ITEM_PARENT_LOCATOR = 'A8D35F2D-B30B-454D-ABF7-D3D84834AB0C';
const KNOWN_ITEMS = new Set([ITEM_FILE_PARAMETERS, ITEM_VIRTUAL_DISK_SIZE, ITEM_PAGE_83, ITEM_LOGICAL_SECTOR_SIZE, ITEM_PHYSICAL_SECTOR_SIZE, ITEM_PARENT_LOCATOR]);

export interface VhdxHeader {
  sequence: bigint;
  logGuid: string;
  version: number;
}

export interface Region {
  offset: number;
  length: number;
}

export interface MetadataItem {
  offset: number;
  length: number;
}

export function hasVhdxSignature(head: Buffer): boolean {
  return head.length >= 8 && head.toString('latin1', 0, 8) === 'vhdxfile';
}

const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

export function isZeroGuid(guid: string): boolean {
  return guid === ZERO_GUID;
}

/** A header that is intact (signature, CRC, version 1), or null. */
export function parseHeader(bytes: Buffer): VhdxHeader | null {
  if (bytes.toString('latin1', 0, 4) !== 'head') return null;
  if (bytes.readUInt32LE(4) !== crc32cWithFieldZeroed(bytes.subarray(0, HEADER_BYTES), 4)) return null;
  const version = bytes.readUInt16LE(66);
  if (version !== 1) return null;
  return { sequence: bytes.readBigUInt64LE(8), logGuid: guidFromBytes(bytes.subarray(48, 64)), version };
}

function u64(bytes: Buffer, at: number, path: string, what: string): number {
  const v = bytes.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new BlockError('EINVAL', `${path}: ${what} ${v} is larger than 2^53`);
  return Number(v);
}

/** Region table entries by GUID, or null if the table is damaged; unknown required regions are refused. */
export function parseRegionTable(bytes: Buffer, path: string, fileSize: number): Map<string, Region> | null {
  if (bytes.toString('latin1', 0, 4) !== 'regi') return null;
  if (bytes.readUInt32LE(4) !== crc32cWithFieldZeroed(bytes, 4)) return null;
  const count = bytes.readUInt32LE(8);
  if (count > MAX_TABLE_ENTRIES) return null;
  const regions = new Map<string, Region>();
  for (let i = 0; i < count; i++) {
    const at = 16 + i * 32;
    const guid = guidFromBytes(bytes.subarray(at, at + 16));
    const offset = u64(bytes, at + 16, path, 'region offset');
    const length = bytes.readUInt32LE(at + 24);
    const required = (bytes.readUInt32LE(at + 28) & 1) === 1;
    if (guid !== REGION_BAT && guid !== REGION_METADATA) {
      if (required) throw new BlockError('ENOTSUP', `${path}: unknown required region ${guid}`);
      continue;
    }
    if (offset < MiB || offset % MiB !== 0 || offset + length > fileSize) {
      throw new BlockError('EINVAL', `${path}: region ${guid} at ${offset} (+${length}) is misplaced or lies beyond the end of the file (${fileSize} bytes)`);
    }
    regions.set(guid, { offset, length });
  }
  return regions;
}

/** Metadata items by GUID (offsets absolute in the file); unknown required items are refused. */
export function parseMetadataTable(bytes: Buffer, region: Region, path: string): Map<string, MetadataItem> {
  if (bytes.length < 32 || bytes.toString('latin1', 0, 8) !== 'metadata') throw new BlockError('EINVAL', `${path}: the metadata region has no "metadata" signature`);
  const count = bytes.readUInt16LE(10);
  if (count > MAX_TABLE_ENTRIES || 32 + count * 32 > bytes.length) {
    throw new BlockError('EINVAL', `${path}: the metadata table claims ${count} entries, more than its region holds`);
  }
  const items = new Map<string, MetadataItem>();
  for (let i = 0; i < count; i++) {
    const at = 32 + i * 32;
    const guid = guidFromBytes(bytes.subarray(at, at + 16));
    const offset = bytes.readUInt32LE(at + 16);
    const length = bytes.readUInt32LE(at + 20);
    const required = (bytes.readUInt32LE(at + 24) & 4) !== 0;
    if (!KNOWN_ITEMS.has(guid)) {
      if (required) throw new BlockError('ENOTSUP', `${path}: unknown required metadata item ${guid}`);
      continue;
    }
    if (offset + length > region.length) {
      throw new BlockError('EINVAL', `${path}: metadata item ${guid} (${length} bytes at ${offset}) lies outside the metadata region`);
    }
    items.set(guid, { offset: region.offset + offset, length });
  }
  return items;
}

/** Parent locator key/value pairs (relative_path, absolute_win32_path, parent_linkage, ...). */
export function parseParentLocator(bytes: Buffer, path: string): Map<string, string> {
  if (bytes.length < 20) throw new BlockError('EINVAL', `${path}: the parent locator is truncated`);
  const count = bytes.readUInt16LE(18);
  const out = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const at = 20 + i * 12;
    if (at + 12 > bytes.length) throw new BlockError('EINVAL', `${path}: the parent locator's entry ${i} lies outside it`);
    const keyOffset = bytes.readUInt32LE(at);
    const valueOffset = bytes.readUInt32LE(at + 4);
    const keyLength = bytes.readUInt16LE(at + 8);
    const valueLength = bytes.readUInt16LE(at + 10);
    if (keyOffset + keyLength > bytes.length || valueOffset + valueLength > bytes.length) {
      throw new BlockError('EINVAL', `${path}: the parent locator's entry ${i} points outside it`);
    }
    out.set(bytes.toString('utf16le', keyOffset, keyOffset + keyLength), bytes.toString('utf16le', valueOffset, valueOffset + valueLength));
  }
  return out;
}
