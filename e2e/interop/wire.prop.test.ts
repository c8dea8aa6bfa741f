// Random filter stacks over random sparse images, served by the real CLI and read by real
// clients: python3-libnbd's BLOCK_STATUS (with and without REQ_ONE) and reads (with and
// without a meta context), and qemu-img convert/compare, all checked against the model of
// the stack (the bytes it must serve, computed from the image). Then literal regressions
// for the REQ_ONE tail and the unaligned offset window, which lost data with qemu.
// Everything runs in plaintext and again over TLS (X.509 and PSK, --tls=require): the same
// stacks, oracles and clients, with nbds:// URIs and qemu's tls-creds objects.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../main/formats/qemu-oracle.ts';
import { propertyTimeout } from '../../main/testing/property-params.ts';
import { serve, tempDir } from './harness.ts';
import { CMD_FLAG, NbdConnection } from './nbd-rpc.ts';
import { budgetedParams } from './property-budget.ts';
import { convertImage, fractionArb, layoutArb, partitionSectors, writePartitionTable, writeRuns, writeSparseImage, type ImageFormat, type Layout, type Partition } from './sparse-image.ts';
import { resolveStack, stackArb, type FilterChoice } from './stack-model.ts';
import { useTransport, type Transport, type TransportKind } from './transport.ts';
import { chunkProblems, describeDifference, extentProblems, qemuProblems } from './wire-oracle.ts';

const tmp = tempDir('blockscope-wire-');
afterAll(() => tmp.cleanup());

type BaseSpec =
  | { kind: 'raw'; layout: Layout }
  | { kind: 'gpt' | 'mbr'; layout: Layout; cuts: number[]; partition: number | null; overIdentity: boolean }
  | { kind: ImageFormat; layout: Layout; clusterBits: number };

interface Base {
  plugin: string[];
  image: Buffer;
  partitions: Partition[];
}

const MIB = 1 << 20;

const baseArb: fc.Arbitrary<BaseSpec> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('raw' as const), layout: layoutArb(1, 3 * MIB) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('gpt' as const, 'mbr' as const),
      layout: layoutArb(2 * MIB, 4 * MIB, [4096]),
      cuts: fc.uniqueArray(fractionArb, { minLength: 4, maxLength: 4 }),
      partition: fc.option(fc.nat(1), { nil: null, freq: 5 }),
      overIdentity: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('qcow2' as const, 'vpc' as const), layout: layoutArb(64 << 10, 3 * MIB, [512, 4096]), clusterBits: fc.integer({ min: 12, max: 16 }) }) },
);

async function buildBase(spec: BaseSpec, dir: string): Promise<Base> {
  const raw = path.join(dir, 'disk.img');
  if (spec.kind === 'raw') return { plugin: ['file', `file=${raw}`], image: await writeSparseImage(raw, spec.layout), partitions: [] };
  if ('cuts' in spec) {
    // Runs stay clear of the tables at both ends; sgdisk and sfdisk write only those.
    await writeSparseImage(raw, spec.layout, 64 << 10, spec.layout.size - (64 << 10));
    const partitions = await writePartitionTable(raw, spec.kind, partitionSectors(spec.layout.size, spec.cuts));
    return { plugin: ['file', `file=${raw}`], image: readFileSync(raw), partitions };
  }
  await writeSparseImage(raw, spec.layout);
  const image = path.join(dir, `disk.${spec.kind}`);
  const bytes = await convertImage(raw, spec.kind, image, 1 << spec.clusterBits);
  return { plugin: [spec.kind === 'vpc' ? 'vhd' : 'qcow2', `file=${image}`], image: bytes, partitions: [] };
}

/** The partition filter goes under the other filters, or just over the innermost one. */
function chooseFilters(spec: BaseSpec, stack: FilterChoice[]): FilterChoice[] {
  if ((spec.kind !== 'gpt' && spec.kind !== 'mbr') || spec.partition === null) return stack;
  const at = spec.overIdentity && stack.length > 0 ? stack.length - 1 : stack.length;
  return [...stack.slice(0, at), { kind: 'partition', index: spec.partition }, ...stack.slice(at)];
}

interface Query {
  op: 'status' | 'status-one' | 'pread' | 'pread-sparse' | 'pread-df';
  at: number;
  length: number;
  align: number;
}

const queryArb: fc.Arbitrary<Query> = fc.record({
  op: fc.constantFrom('status' as const, 'status-one' as const, 'pread' as const, 'pread-sparse' as const, 'pread-df' as const),
  at: fractionArb,
  length: fc.oneof(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: 2 * MIB })),
  align: fc.constantFrom(1, 512, 4096),
});

function placeQuery(q: Query, size: number): [offset: number, count: number] {
  const raw = Math.floor(((size - 1) * q.at) / 0x10000);
  const offset = raw - (raw % q.align);
  const count = Math.min(size - offset, Math.max(q.align, q.length - (q.length % q.align)));
  return [offset, count];
}

async function queryProblems(q: Query, meta: NbdConnection, plain: NbdConnection, model: Buffer): Promise<string[]> {
  const [offset, count] = placeQuery(q, model.length);
  const label = (p: string) => `${q.op} [${offset}, ${offset + count}): ${p}`;
  switch (q.op) {
    case 'status':
    case 'status-one': {
      const reqOne = q.op === 'status-one';
      return extentProblems(await meta.blockStatus(offset, count, reqOne ? CMD_FLAG.REQ_ONE : 0), offset, count, reqOne, model).map(label);
    }
    case 'pread':
    case 'pread-sparse':
    case 'pread-df':
      return (await readProblems(q.op, q.op === 'pread' ? meta : plain, offset, count, model)).map(label);
  }
}

/**
 * A read compared by digest (cheap through the pipe); the bytes are fetched only to
 * describe a difference. pread-sparse and pread-df go through a connection without a meta
 * context, where the server answers long reads of zeroes with hole chunks.
 */
async function readProblems(op: 'pread' | 'pread-sparse' | 'pread-df', conn: NbdConnection, offset: number, count: number, model: Buffer): Promise<string[]> {
  const structured = op !== 'pread';
  const flags = op === 'pread-df' ? CMD_FLAG.DF : 0;
  const { sha256: digest, chunks } = await conn.readDigest(offset, count, { flags, structured });
  const problems = structured ? chunkProblems(chunks, offset, count, model) : [];
  if (op === 'pread-df' && chunks.length !== 1) problems.push(`DF read answered in ${chunks.length} chunks`);
  const expected = model.subarray(offset, offset + count);
  if (digest !== sha256(expected)) {
    const data = structured ? (await conn.preadStructured(offset, count, flags)).data : await conn.pread(offset, count);
    problems.push(describeDifference(data, expected, offset) ?? 'the digest differed, a second read matched');
  }
  return problems;
}

/** BLOCK_STATUS from 0 to the end, each request starting where the last reply stopped (qemu's walk). */
async function walkProblems(conn: NbdConnection, model: Buffer, reqOne: boolean): Promise<string[]> {
  const flags = reqOne ? CMD_FLAG.REQ_ONE : 0;
  for (let pos = 0; pos < model.length;) {
    const count = model.length - pos;
    const calls = await conn.blockStatus(pos, count, flags);
    const problems = extentProblems(calls, pos, count, reqOne, model);
    if (problems.length > 0) return problems.map((p) => `walk${reqOne ? ' REQ_ONE' : ''} at ${pos}: ${p}`);
    const last = calls[0]!.extents.at(-1)!;
    pos = last[0] + last[1];
  }
  return [];
}

async function scenarioProblems(t: Transport, served: string, model: Buffer, queries: Query[], dir: string): Promise<string[]> {
  const uri = t.clientUri(served);
  const [meta, plain] = await Promise.all([NbdConnection.open(uri), NbdConnection.open(uri, { meta: false })]);
  try {
    if (meta.info.size !== model.length) return [`export size ${meta.info.size}, model ${model.length}`];
    if (!meta.info.meta || plain.info.meta || !plain.info.structured) return [`negotiation: ${JSON.stringify([meta.info, plain.info])}`];
    const problems = [...(await walkProblems(meta, model, true)), ...(await walkProblems(meta, model, false))];
    for (const q of queries) problems.push(...(await queryProblems(q, meta, plain, model)));
    problems.push(...(await qemuProblems(t.qemu(served), model, dir)));
    return problems;
  } finally {
    await Promise.all([meta.close(), plain.close()]);
  }
}

/**
 * Cases per transport. TLS changes how bytes travel, not what the stack serves, so its
 * variants run fewer cases; each still walks BLOCK_STATUS with and without REQ_ONE, and the
 * literal regressions below pin REQ_ONE and an unaligned window over every transport.
 */
const TRANSPORTS: { kind: TransportKind; runs: number; budgetMs: number }[] = [
  { kind: 'plain', runs: 15, budgetMs: 70_000 },
  { kind: 'x509', runs: 8, budgetMs: 35_000 },
  { kind: 'psk', runs: 5, budgetMs: 25_000 },
];

for (const { kind, runs, budgetMs } of TRANSPORTS) describe(`random filter stacks over the wire (${kind})`, () => {
  const transport = useTransport(kind);
  it('block status, reads and qemu-img convert agree with the model of the stack', async () => {
    const t = transport();
    const scenario = fc.record({ base: baseArb, stack: stackArb, queries: fc.array(queryArb, { minLength: 5, maxLength: 30 }) });
    await fc.assert(fc.asyncProperty(scenario, async ({ base: spec, stack: choices, queries }) => {
      const dir = mkdtempSync(path.join(tmp.dir, 'run-'));
      try {
        const base = await buildBase(spec, dir);
        const stack = resolveStack(chooseFilters(spec, choices), base.image, base.partitions);
        const server = await serve([...t.serverArgs, ...stack.filterWords, ...base.plugin, ...stack.paramWords]);
        try {
          const problems = await scenarioProblems(t, server.uri, stack.model, queries, dir);
          if (!t.loggedTls(server.stderr())) problems.push(`the server did not log a client over TLS:\n${server.stderr()}`);
          if (problems.length > 0) throw new Error(`${stack.describe} over ${base.plugin[0]}:\n${problems.slice(0, 12).join('\n')}`);
        } finally {
          await server.stop();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }), budgetedParams(runs, budgetMs));
  }, propertyTimeout(budgetMs + 30_000));
});

const K = 1024;

/** A sparse file of `size` bytes with seeded random data at each [start, end). */
async function literalImage(name: string, size: number, data: [number, number][]): Promise<{ file: string; bytes: Buffer }> {
  const file = path.join(tmp.dir, name);
  const bytes = await writeRuns(file, size, data.map(([start, end], i) => ({ start, end, kind: 'data', seed: i + 1 })));
  return { file, bytes };
}

for (const { kind } of TRANSPORTS) describe(`qemu-img convert through filters (regressions, ${kind})`, () => {
  const transport = useTransport(kind);
  // Data 0-256K, a hole 256K-1M, data 1M-1.1M, a hole to 2M: qemu asks with REQ_ONE and a
  // reply that called everything after the first hole a hole lost the second data run.
  const layout: [number, number][] = [[0, 256 * K], [1024 * K, 1126 * K]];

  const cases: [filter: string, params: string[], model: (b: Buffer) => Buffer][] = [
    ['cow', [], (b) => b],
    ['offset', ['offset=4096'], (b) => b.subarray(4096)],
    ['truncate', ['truncate=3M'], (b) => Buffer.concat([b, Buffer.alloc(MIB)])],
  ];

  for (const [filter, params, model] of cases) {
    it(`--filter=${filter} file raw.img`, async () => {
      const { file, bytes } = await literalImage(`${filter}-${kind}.img`, 2 * MIB, layout);
      const s = await serve([...transport().serverArgs, `--filter=${filter}`, 'file', `file=${file}`, ...params]);
      try {
        expect(await qemuProblems(transport().qemu(s.uri), model(bytes), tmp.dir)).toEqual([]);
      } finally {
        await s.stop();
      }
    });
  }

  it('--filter=cow: REQ_ONE at the first hole answers the hole and no more', async () => {
    const { file } = await literalImage(`cow-req-one-${kind}.img`, 2 * MIB, layout);
    const s = await serve([...transport().serverArgs, '--filter=cow', 'file', `file=${file}`]);
    const conn = await NbdConnection.open(transport().clientUri(s.uri));
    try {
      const calls = await conn.blockStatus(256 * K, 2 * MIB - 256 * K, CMD_FLAG.REQ_ONE);
      expect(calls).toEqual([{ context: 'base:allocation', extents: [[256 * K, 768 * K, 3]] }]);
    } finally {
      await conn.close();
      await s.stop();
    }
  });

  it('--filter=offset offset=1234567 over data right after a hole', async () => {
    // The hole ends at 1236992 (a 4K block): byte 2425 of the window, inside its sector 4.
    const { file, bytes } = await literalImage(`odd-offset-${kind}.img`, 2 * MIB, [[0, 64 * K], [1236992, 1236992 + 64 * K]]);
    const s = await serve([...transport().serverArgs, '--filter=offset', 'file', `file=${file}`, 'offset=1234567']);
    try {
      expect(await qemuProblems(transport().qemu(s.uri), bytes.subarray(1234567), tmp.dir)).toEqual([]);
    } finally {
      await s.stop();
    }
  });
});
