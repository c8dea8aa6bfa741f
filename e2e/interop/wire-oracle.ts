// What a reply over the wire must satisfy, given the model (the export's expected bytes).
// Each check returns a list of problems (empty = fine) so a failing property can say
// everything that is wrong with one reply at once.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ok, run } from './harness.ts';
import type { ExtentCall, ReadChunk } from './nbd-rpc.ts';
import type { QemuExport } from './transport.ts';

const SECTOR = 512;
const ZEROES = Buffer.alloc(1 << 20);

export function isZero(buf: Buffer): boolean {
  for (let at = 0; at < buf.length; at += ZEROES.length) {
    const part = buf.subarray(at, at + ZEROES.length);
    if (!part.equals(ZEROES.subarray(0, part.length))) return false;
  }
  return true;
}

/** Where `actual` first differs from `expected` (lengths included), with context; null if equal. */
export function describeDifference(actual: Buffer, expected: Buffer, base = 0): string | null {
  if (actual.equals(expected)) return null;
  const n = Math.min(actual.length, expected.length);
  let i = 0;
  const step = 4096;
  while (i + step <= n && actual.subarray(i, i + step).equals(expected.subarray(i, i + step))) i += step;
  while (i < n && actual[i] === expected[i]) i++;
  let differing = 0;
  for (let j = i; j < n; j++) if (actual[j] !== expected[j]) differing++;
  const hex = (b: Buffer) => b.subarray(i, i + 8).toString('hex');
  return `first difference at byte ${base + i} (sector ${Math.floor((base + i) / SECTOR)}): got ${hex(actual)}, expected ${hex(expected)}; ` +
    `${differing} differing bytes; lengths ${actual.length} vs ${expected.length}`;
}

function modelIsZero(model: Buffer, start: number, end: number): boolean {
  return isZero(model.subarray(start, Math.min(end, model.length)));
}

/**
 * A base:allocation reply to BLOCK_STATUS [offset, offset+count): one call for the context,
 * non-empty extents within the request (exactly one with REQ_ONE), every hole or zero
 * extent reading as zero in the model, and no boundary between data and a hole or zero
 * extent inside a 512-byte sector (qemu takes a sector starting in a hole for zero).
 */
export function extentProblems(calls: ExtentCall[], offset: number, count: number, reqOne: boolean, model: Buffer): string[] {
  const problems: string[] = [];
  if (calls.length !== 1 || calls[0]!.context !== 'base:allocation') {
    return [`expected one base:allocation reply, got ${JSON.stringify(calls.map((c) => c.context))}`];
  }
  const list = calls[0]!.extents;
  const end = offset + count;
  if (list.length === 0) problems.push('no extents');
  if (reqOne && list.length !== 1) problems.push(`REQ_ONE got ${list.length} extents`);
  const isData = (i: number) => (list[i]![2] & 3) === 0;
  list.forEach(([start, length, flags], i) => {
    const stop = start + length;
    const what = `extent [${start}, ${stop}) flags ${flags}`;
    if (length <= 0) problems.push(`${what}: empty`);
    if (flags & ~3) problems.push(`${what}: unknown flag bits`);
    if (stop > end) problems.push(`${what}: past the request end ${end}`);
    if (isData(i)) return;
    if (!modelIsZero(model, start, stop)) problems.push(`${what}: claims zero over data`);
    const startsInSector = start % SECTOR !== 0 && i > 0 && isData(i - 1);
    const last = i === list.length - 1;
    const endsInSector = stop % SECTOR !== 0 && stop !== end && stop !== model.length && (last || isData(i + 1));
    if (startsInSector || endsInSector) problems.push(`${what}: hole/zero boundary inside a sector`);
  });
  return problems;
}

/** The chunks of a structured read: they tile the request, and hole chunks cover zeroes only. */
export function chunkProblems(chunks: ReadChunk[], offset: number, count: number, model: Buffer): string[] {
  const problems: string[] = [];
  const sorted = chunks.slice().sort((a, b) => a.offset - b.offset);
  let pos = offset;
  for (const c of sorted) {
    const what = `chunk [${c.offset}, ${c.offset + c.length}) status ${c.status}`;
    if (c.offset !== pos) problems.push(`${what}: expected it at ${pos}`);
    if (c.status === 2 && !modelIsZero(model, c.offset, c.offset + c.length)) problems.push(`${what}: a hole over data`);
    if (c.status !== 1 && c.status !== 2) problems.push(`${what}: unexpected status`);
    pos = c.offset + c.length;
  }
  if (pos !== offset + count) problems.push(`chunks end at ${pos}, not ${offset + count}`);
  return problems;
}

/**
 * What users run: `qemu-img convert` of the export to a raw file must give the model byte
 * for byte (qemu rounds the size up to whole sectors with zeroes), and `qemu-img compare`
 * against a raw file of the model must find them identical. Over TLS, qemu names the export
 * with --object tls-creds-* and --image-opts, so the local file is named that way too.
 */
export async function qemuProblems(target: QemuExport, model: Buffer, dir: string): Promise<string[]> {
  const problems: string[] = [];
  const out = path.join(dir, 'qemu-convert.raw');
  rmSync(out, { force: true });
  const source = target.imageOpts === null ? ['-f', 'raw', target.uri] : ['--image-opts', target.imageOpts];
  await ok('qemu-img', ['convert', ...target.objects, ...source, '-O', 'raw', out]);
  const padded = Buffer.concat([model, Buffer.alloc((SECTOR - (model.length % SECTOR)) % SECTOR)]);
  const diff = describeDifference(readFileSync(out), padded);
  if (diff) problems.push(`qemu-img convert: ${diff}`);
  const modelFile = path.join(dir, 'model.raw');
  writeFileSync(modelFile, model);
  const pair = target.imageOpts === null ? ['-f', 'raw', '-F', 'raw', modelFile, target.uri] : ['--image-opts', `driver=file,filename=${modelFile}`, target.imageOpts];
  const r = await run('qemu-img', ['compare', ...target.objects, ...pair]);
  if (r.code !== 0) problems.push(`qemu-img compare exited ${r.code}: ${(r.stdout + r.stderr).trim()}`);
  return problems;
}
