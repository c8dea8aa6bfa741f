// The qcow2 header (v2 and v3) and its extensions, validated before anything trusts it: a
// corrupt or hostile header gets an error naming the image and the field, and no size in
// it can make us allocate more than the file itself could justify.
import { BlockError } from '../../backend/errors.ts';
import type { ImageFile } from '../image-file.ts';

export const QCOW2_MAGIC = 0x514649fb;

const INCOMPAT_DIRTY = 1n << 0n;
const INCOMPAT_CORRUPT = 1n << 1n;
const INCOMPAT_DATA_FILE = 1n << 2n;
const INCOMPAT_COMPRESSION = 1n << 3n;
const INCOMPAT_EXTL2 = 1n << 4n;
const INCOMPAT_KNOWN = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2;
const AUTOCLEAR_DATA_FILE_RAW = 1n << 1n;

const EXT_END = 0;
const EXT_BACKING_FORMAT = 0xe2792aca;
const EXT_FEATURE_NAMES = 0x6803f857;
const EXT_DATA_FILE = 0x44415441;

/** qemu's own limits: larger values are corrupt, not merely unusual. */
const MAX_CLUSTER_BITS = 21;
const MAX_L1_BYTES = 32 * 1024 * 1024;
const MAX_BACKING_NAME = 1023;

export interface Qcow2Header {
  version: 2 | 3;
  clusterBits: number;
  clusterSize: number;
  size: number;
  l1Size: number;
  l1Offset: number;
  extendedL2: boolean;
  compression: 'deflate-raw' | 'zstd';
  dirty: boolean;
  corrupt: boolean;
  backingName?: string;
  backingFormat?: string;
  dataFileName?: string;
  /** Incompatible bit 2: allocated clusters live in an external data file. */
  hasDataFile: boolean;
  dataFileRaw: boolean;
}

/** The header cluster as read, and what every check needs to name the image in its error. */
interface RawHeader {
  file: ImageFile;
  head: Buffer;
  clusterBits: number;
  clusterSize: number;
  fail(msg: string): never;
}

/** The v3 fields; a v2 header has them at their defaults. */
interface V3Fields {
  headerLength: number;
  incompatible: bigint;
  autoclear: bigint;
  compressionType: number;
}

/** Reads and checks the header of `file`, which starts with the qcow2 magic. */
export async function readQcow2Header(file: ImageFile): Promise<Qcow2Header> {
  const { raw, version } = await readHeaderCluster(file);
  const { head, fail } = raw;
  const size = u64(raw, 24, 'virtual size');
  checkEncryption(raw, head.readUInt32BE(32));
  const v3 = version === 3 ? readV3Fields(raw) : { headerLength: 72, incompatible: 0n, autoclear: 0n, compressionType: 0 };
  const { incompatible, autoclear, compressionType } = v3;
  const extensions = parseExtensions(head, v3.headerLength, Math.min(raw.clusterSize, head.length), fail);
  const extendedL2 = checkFeatures(raw, v3, extensions);
  const { l1Size, l1Offset } = readL1Table(raw, size, extendedL2);
  const backingName = readBackingName(raw);

  const hasDataFile = (incompatible & INCOMPAT_DATA_FILE) !== 0n;
  if (hasDataFile && extensions.dataFileName === undefined) fail('the image uses an external data file but does not name it');
  if (hasDataFile && backingName !== undefined && (autoclear & AUTOCLEAR_DATA_FILE_RAW)) fail('a raw external data file cannot have a backing file');

  return {
    version,
    clusterBits: raw.clusterBits,
    clusterSize: raw.clusterSize,
    size,
    l1Size,
    l1Offset,
    extendedL2,
    compression: compressionType === 1 ? 'zstd' : 'deflate-raw',
    dirty: (incompatible & INCOMPAT_DIRTY) !== 0n,
    corrupt: (incompatible & INCOMPAT_CORRUPT) !== 0n,
    backingName,
    backingFormat: extensions.backingFormat,
    dataFileName: hasDataFile ? extensions.dataFileName : undefined,
    hasDataFile,
    dataFileRaw: hasDataFile && (autoclear & AUTOCLEAR_DATA_FILE_RAW) !== 0n,
  };
}

/** Magic, version and cluster size, then as much of the first cluster as the file holds. */
async function readHeaderCluster(file: ImageFile): Promise<{ raw: RawHeader; version: 2 | 3 }> {
  const fail = (msg: string): never => {
    throw new BlockError('EINVAL', `${file.path}: ${msg}`);
  };
  if (file.size < 72) fail(`qcow2 header is truncated (file is ${file.size} bytes, the header needs 72)`);
  let head = await file.read(0, Math.min(file.size, 4096), 'qcow2 header');
  if (head.readUInt32BE(0) !== QCOW2_MAGIC) fail('not a qcow2 image (bad magic)');
  const version = head.readUInt32BE(4);
  if (version !== 2 && version !== 3) fail(`unsupported qcow2 version ${version} (only 2 and 3 exist)`);
  const clusterBits = head.readUInt32BE(20);
  if (clusterBits < 9 || clusterBits > MAX_CLUSTER_BITS) fail(`cluster_bits ${clusterBits} is outside 9..${MAX_CLUSTER_BITS}`);
  const clusterSize = 2 ** clusterBits;
  // Extensions and the backing file name may use the whole first cluster.
  if (clusterSize > head.length && file.size > head.length) head = await file.read(0, Math.min(file.size, clusterSize), 'qcow2 header');
  return { raw: { file, head, clusterBits, clusterSize, fail }, version: version as 2 | 3 };
}

function u64(raw: RawHeader, at: number, what: string): number {
  const v = raw.head.readBigUInt64BE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) raw.fail(`${what} ${v} is larger than 2^53`);
  return Number(v);
}

/** Encrypted images are refused as unsupported (ENOTSUP), not as corrupt. */
function checkEncryption(raw: RawHeader, cryptMethod: number): void {
  const { file } = raw;
  if (cryptMethod === 1) throw new BlockError('ENOTSUP', `${file.path}: encrypted qcow2 images (AES) are not supported: Blockscope cannot read encrypted data`);
  if (cryptMethod === 2) throw new BlockError('ENOTSUP', `${file.path}: encrypted qcow2 images (LUKS) are not supported: Blockscope cannot read encrypted data`);
  if (cryptMethod !== 0) raw.fail(`unknown encryption method ${cryptMethod}`);
}

function readV3Fields({ file, head, clusterSize, fail }: RawHeader): V3Fields {
  if (file.size < 104) fail(`qcow2 v3 header is truncated (file is ${file.size} bytes, the header needs 104)`);
  const incompatible = head.readBigUInt64BE(72);
  const autoclear = head.readBigUInt64BE(88);
  const headerLength = head.readUInt32BE(100);
  if (headerLength < 104 || headerLength > head.length || headerLength > clusterSize) fail(`header_length ${headerLength} is invalid`);
  const compressionType = headerLength > 104 ? head[104]! : 0;
  return { headerLength, incompatible, autoclear, compressionType };
}

/** Refuses features we cannot honour; answers whether L2 entries are extended. */
function checkFeatures({ file, clusterBits, fail }: RawHeader, v3: V3Fields, extensions: Extensions): boolean {
  const { incompatible, compressionType } = v3;
  const unknown = incompatible & ~INCOMPAT_KNOWN;
  if (unknown) {
    const names = describeBits(unknown, extensions.featureNames);
    throw new BlockError('ENOTSUP', `${file.path}: unsupported qcow2 incompatible features: ${names}`);
  }
  const extendedL2 = (incompatible & INCOMPAT_EXTL2) !== 0n;
  if (extendedL2 && clusterBits < 14) fail(`extended L2 entries need clusters of at least 16 KiB (cluster_bits is ${clusterBits})`);
  if ((incompatible & INCOMPAT_COMPRESSION) === 0n && compressionType !== 0) fail(`compression type ${compressionType} is set without the compression-type feature bit`);
  if (compressionType > 1) throw new BlockError('ENOTSUP', `${file.path}: unsupported compression type ${compressionType}`);
  return extendedL2;
}

/** The L1 table must cover the virtual size, stay within reason and lie inside the file. */
function readL1Table(raw: RawHeader, size: number, extendedL2: boolean): { l1Size: number; l1Offset: number } {
  const { file, head, clusterSize, fail } = raw;
  const l1Size = head.readUInt32BE(36);
  const l1Offset = u64(raw, 40, 'L1 table offset');
  const l2Entries = clusterSize / (extendedL2 ? 16 : 8);
  const needed = Math.ceil(size / (clusterSize * l2Entries));
  if (l1Size < needed) fail(`L1 table has ${l1Size} entries, too few for a virtual size of ${size} bytes (needs ${needed})`);
  if (l1Size * 8 > MAX_L1_BYTES) fail(`L1 table of ${l1Size} entries is absurdly large`);
  if (l1Size > 0) {
    if (l1Offset % clusterSize !== 0) fail(`L1 table offset ${l1Offset} is not aligned to a cluster`);
    if (l1Offset === 0) fail('L1 table overlaps the header');
    if (l1Offset + l1Size * 8 > file.size) fail(`L1 table (${l1Size} entries at ${l1Offset}) lies beyond the end of the file (${file.size} bytes)`);
  }
  return { l1Size, l1Offset };
}

/** The backing file's name, which must lie inside the header cluster. */
function readBackingName(raw: RawHeader): string | undefined {
  const { head, clusterSize, fail } = raw;
  const backingOffset = u64(raw, 8, 'backing file offset');
  const backingSize = head.readUInt32BE(16);
  if (backingOffset === 0) return undefined;
  if (backingSize === 0 || backingSize > MAX_BACKING_NAME) fail(`backing file name length ${backingSize} is invalid`);
  if (backingOffset + backingSize > Math.min(clusterSize, head.length)) fail(`backing file name at ${backingOffset} lies outside the header cluster`);
  return head.toString('utf8', backingOffset, backingOffset + backingSize);
}

interface Extensions {
  backingFormat?: string;
  dataFileName?: string;
  featureNames: Map<number, string>;
}

function parseExtensions(head: Buffer, start: number, end: number, fail: (msg: string) => never): Extensions {
  const out: Extensions = { featureNames: new Map() };
  let pos = start;
  while (pos + 8 <= end) {
    const type = head.readUInt32BE(pos);
    const length = head.readUInt32BE(pos + 4);
    if (type === EXT_END) break;
    const data = pos + 8;
    if (data + length > end) fail(`header extension 0x${type.toString(16)} at ${pos} (${length} bytes) overruns the header cluster`);
    if (type === EXT_BACKING_FORMAT) out.backingFormat = head.toString('utf8', data, data + length);
    else if (type === EXT_DATA_FILE) out.dataFileName = head.toString('utf8', data, data + length);
    else if (type === EXT_FEATURE_NAMES) {
      // Entries of 48 bytes: type (0 = incompatible), bit number, 46-byte name.
      for (let at = data; at + 48 <= data + length; at += 48) {
        if (head[at] === 0) out.featureNames.set(head[at + 1]!, head.toString('utf8', at + 2, at + 48).replace(/\0.*$/s, ''));
      }
    }
    pos = data + Math.ceil(length / 8) * 8;
  }
  return out;
}

function describeBits(bits: bigint, names: Map<number, string>): string {
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (bits & (1n << BigInt(bit))) out.push(names.has(bit) ? `bit ${bit} (${names.get(bit)})` : `bit ${bit}`);
  }
  return out.join(', ');
}
