// The write path, model-checked: random writes, FUA writes, write zeroes (NO_HOLE,
// FAST_ZERO, FUA), trims, flushes, caches and reads from 2-3 python3-libnbd connections at
// once, through file, memory, cow, offset, partition and truncate stacks of the real CLI.
// Every read over NBD equals the model; after the server stops, the image on disk holds
// the model where the export maps onto it and its old bytes elsewhere; under cow the
// image never changes. The same property runs in plaintext and over TLS (X.509, with
// --tls=require and nbds:// URIs).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { sha256 } from '../../main/formats/qemu-oracle.ts';
import { propertyTimeout } from '../../main/testing/property-params.ts';
import { serve, tempDir } from './harness.ts';
import { NbdConnection, NbdRequestError } from './nbd-rpc.ts';
import { budgetedParams } from './property-budget.ts';
import { fractionArb, layoutArb, partitionSectors, writePartitionTable, writeSparseImage, type Layout, type Partition } from './sparse-image.ts';
import { offsetChoiceArb, resolveStack, truncateChoiceArb, type FilterChoice, type ResolvedStack } from './stack-model.ts';
import { useTransport, type TransportKind } from './transport.ts';
import { applyOutcome, batches, FLUSH_AND_REREAD, opArb, placeOps, type Outcome, type PlacedOp } from './write-model.ts';
import { describeDifference } from './wire-oracle.ts';

const tmp = tempDir('blockscope-writes-');
afterAll(() => tmp.cleanup());


type StackSpec =
  | { kind: 'file' | 'memory' }
  | { kind: 'cow'; variant: number }
  | { kind: 'offset' | 'truncate'; choice: FilterChoice }
  | { kind: 'partition'; index: number; cuts: number[] };

const stackSpecArb: fc.Arbitrary<StackSpec> = fc.oneof(
  fc.record({ kind: fc.constantFrom('file' as const, 'memory' as const) }),
  fc.record({ kind: fc.constant('cow' as const), variant: fc.nat(1) }),
  fc.record({ kind: fc.constant('offset' as const), choice: offsetChoiceArb }),
  // Growing adds a tail that takes only zeroes: worth more cases than shrinking.
  fc.record({ kind: fc.constant('truncate' as const), choice: fc.oneof(truncateChoiceArb, truncateChoiceArb.map((c) => ({ ...c, mode: 'grow' as const }))) }),
  fc.record({ kind: fc.constant('partition' as const), index: fc.nat(1), cuts: fc.uniqueArray(fractionArb, { minLength: 4, maxLength: 4 }) }),
);

interface Served {
  /** The image file, or null for the memory plugin. */
  file: string | null;
  plugin: string[];
  stack: ResolvedStack;
}

async function buildStack(spec: StackSpec, layout: Layout, dir: string): Promise<Served> {
  if (spec.kind === 'memory') {
    return { file: null, plugin: ['memory', `size=${layout.size}`], stack: resolveStack([], Buffer.alloc(layout.size)) };
  }
  const file = path.join(dir, 'disk.img');
  const plugin = ['file', `file=${file}`];
  if (spec.kind === 'partition') {
    const size = Math.max(1 << 20, layout.size - (layout.size % 4096));
    await writeSparseImage(file, { ...layout, size }, 64 << 10, size - (64 << 10));
    const partitions: Partition[] = await writePartitionTable(file, 'gpt', partitionSectors(size, spec.cuts));
    return { file, plugin, stack: resolveStack([{ kind: 'partition', index: spec.index }], readFileSync(file), partitions) };
  }
  const image = await writeSparseImage(file, layout);
  const choices: FilterChoice[] = 'choice' in spec ? [spec.choice] : spec.kind === 'cow' ? [{ kind: 'cow', variant: spec.variant }] : [];
  return { file, plugin, stack: resolveStack(choices, image) };
}

async function outcomeOf(request: Promise<void>): Promise<Outcome> {
  try {
    await request;
    return { ok: true };
  } catch (err) {
    if (!(err instanceof NbdRequestError)) throw err;
    return { ok: false, errno: err.errno, message: err.message };
  }
}

/** Read [offset, offset+count) on `conn` and compare it with the model. */
async function readProblem(conn: NbdConnection, offset: number, count: number, model: Buffer): Promise<string | null> {
  const expected = model.subarray(offset, offset + count);
  const { sha256: digest } = await conn.readDigest(offset, count);
  if (digest === sha256(expected)) return null;
  return describeDifference(await conn.pread(offset, count), expected, offset) ?? 'digest differed, a second read matched';
}

/** Run one request and fold its outcome into the model (requests in a batch are disjoint). */
async function perform(conn: NbdConnection, op: PlacedOp, model: Buffer, zeroTailFrom: number): Promise<string | null> {
  switch (op.kind) {
    case 'read': {
      const p = await readProblem(conn, op.offset, op.count, model);
      return p && `read [${op.offset}, ${op.offset + op.count}) on connection ${op.connection}: ${p}`;
    }
    case 'write':
    case 'write-fua':
      return applyOutcome(model, op, await outcomeOf(conn.pwrite(op.offset, op.data!, op.flags)), zeroTailFrom);
    case 'trim':
      return applyOutcome(model, op, await outcomeOf(conn.trim(op.offset, op.count, op.flags)), zeroTailFrom);
    case 'flush':
      return applyOutcome(model, op, await outcomeOf(conn.flush()), zeroTailFrom);
    case 'cache':
      return applyOutcome(model, op, await outcomeOf(conn.cache(op.offset, op.count)), zeroTailFrom);
    default:
      return applyOutcome(model, op, await outcomeOf(conn.zero(op.offset, op.count, op.flags)), zeroTailFrom);
  }
}

/**
 * Run the batches; after each, every range it changed must read back as the model on
 * another connection, and an image under cow must be untouched. Stops at the first problem.
 */
async function runBatches(conns: NbdConnection[], ops: PlacedOp[], model: Buffer, served: Served, imageSha: string): Promise<string | null> {
  for (const [i, batch] of batches(ops).entries()) {
    const problems = (await Promise.all(batch.map((op) => perform(conns[op.connection]!, op, model, served.stack.zeroTailFrom)))).filter((p) => p !== null);
    for (const op of batch) {
      if (op.kind === 'read' || op.kind === 'flush' || op.kind === 'cache') continue;
      const other = (op.connection + 1) % conns.length;
      const p = await readProblem(conns[other]!, op.offset, op.count, model);
      if (p) problems.push(`after ${op.kind} [${op.offset}, ${op.offset + op.count}) on connection ${op.connection}, connection ${other} reads: ${p}`);
    }
    if (served.file && !served.stack.stored && sha256(readFileSync(served.file)) !== imageSha) problems.push('the image under cow changed');
    if (problems.length > 0) return `batch ${i} (${batch.map((o) => `${o.kind}@${o.connection}`).join(', ')}):\n${problems.join('\n')}`;
  }
  for (const [c, conn] of conns.entries()) {
    const p = await readProblem(conn, 0, model.length, model);
    if (p) return `the whole export on connection ${c}: ${p}`;
  }
  return null;
}

/** The image file after the server stopped: the model where the export is stored, its old bytes elsewhere. */
function diskProblem(served: Served, before: Buffer, model: Buffer): string | null {
  if (!served.file) return null;
  const { stored } = served.stack;
  const expected = Buffer.from(before);
  if (stored) model.copy(expected, stored.start, 0, stored.length);
  const diff = describeDifference(readFileSync(served.file), expected);
  return diff && `the image on disk: ${diff}`;
}

/** Cases per transport: TLS changes how requests travel, not what the stacks do with them. */
const TRANSPORTS: { kind: TransportKind; runs: number; budgetMs: number }[] = [
  { kind: 'plain', runs: 15, budgetMs: 75_000 },
  { kind: 'x509', runs: 6, budgetMs: 35_000 },
];

for (const { kind, runs, budgetMs } of TRANSPORTS) describe(`writes through filter stacks (${kind})`, () => {
  const transport = useTransport(kind);
  it('reads over NBD and the image on disk follow the model', async () => {
    const t = transport();
    const scenario = fc.record({
      stack: stackSpecArb,
      layout: layoutArb(64 << 10, 2 << 20),
      connections: fc.integer({ min: 2, max: 3 }),
      ops: fc.array(opArb, { minLength: 10, maxLength: 60 }),
    });
    await fc.assert(fc.asyncProperty(scenario, async ({ stack: spec, layout, connections, ops }) => {
      const dir = mkdtempSync(path.join(tmp.dir, 'run-'));
      try {
        const served = await buildStack(spec, layout, dir);
        const before = served.file ? readFileSync(served.file) : Buffer.alloc(0);
        const model = Buffer.from(served.stack.model);
        const server = await serve([...t.serverArgs, '-w', ...served.stack.filterWords, ...served.plugin, ...served.stack.paramWords]);
        let problem: string | null;
        try {
          const conns = await Promise.all(Array.from({ length: connections }, () => NbdConnection.open(t.clientUri(server.uri))));
          try {
            const info = conns[0]!.info;
            problem = info.size !== model.length || info.readonly
              ? `export size ${info.size} (model ${model.length}), read-only ${info.readonly}`
              : await runBatches(conns, placeOps([...ops, ...FLUSH_AND_REREAD], model.length, connections, info), model, served, sha256(before));
          } finally {
            await Promise.all(conns.map((c) => c.close()));
          }
        } finally {
          await server.stop();
        }
        problem ??= diskProblem(served, before, model);
        if (!problem && !t.loggedTls(server.stderr())) problem = `the server did not log a client over TLS:\n${server.stderr()}`;
        if (problem) throw new Error(`${served.stack.describe} over ${served.plugin[0]}: ${problem}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }), budgetedParams(runs, budgetMs));
  }, propertyTimeout(budgetMs + 25_000));
});
