// Our TLS 1.3 record layer (native/tls_session.cc through tls-records.ts). Properties check it
// against RFC 8446 written out again here with node:crypto (HKDF-Expand-Label, the per-record
// nonce, the inner plaintext), over random plaintexts, random cuts of the ciphertext stream
// and every suite; tampering, alerts and KeyUpdate are checked the same way. Then real
// clients (nbdcopy, nbdsh) run over connections the record layer took over from Node's TLS.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, tempDir } from '../../e2e/interop/harness.ts';
import { makeTlsFixtures, type TlsFixtures } from '../../e2e/interop/tls-fixtures.ts';
import { registry } from '../catalog.ts';
import { nativeIo } from '../native-io.ts';
import { EVENT_FIELDS, type LoopMessage } from './connection-loop.ts';
import { propertyParams } from '../testing/property-params.ts';
import { NbdServer } from './server.ts';
import { loadCertificates } from './tls-credentials.ts';
import { recordLayerHandovers, sealedLength, TLS13_SUITES, type TlsRecords } from './tls-records.ts';

type Start = (sock: number, file: number, settings: { tls?: unknown }, onMessage: LoopMessage) => () => void;
type RecordsCtor = new (suite: number, inSecret: Buffer, inSeq: number, outSecret: Buffer, outSeq: number) => TlsRecords;
const Records = (nativeIo() as { TlsRecords?: RecordsCtor } | null)?.TlsRecords;
const NONE = Buffer.alloc(0);

interface Suite {
  id: number;
  hash: 'sha256' | 'sha384';
  cipher: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  keyLength: number;
}
const SUITES: Suite[] = [
  { id: TLS13_SUITES.TLS_AES_128_GCM_SHA256!, hash: 'sha256', cipher: 'aes-128-gcm', keyLength: 16 },
  { id: TLS13_SUITES.TLS_AES_256_GCM_SHA384!, hash: 'sha384', cipher: 'aes-256-gcm', keyLength: 32 },
  { id: TLS13_SUITES.TLS_CHACHA20_POLY1305_SHA256!, hash: 'sha256', cipher: 'chacha20-poly1305', keyLength: 32 },
];

/** RFC 8446, 7.1: HKDF-Expand-Label with an empty context, for lengths up to one hash block. */
function expandLabel(suite: Suite, secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 255, full.length]), full, Buffer.from([0, 1])]);
  return createHmac(suite.hash, secret).update(info).digest().subarray(0, length);
}

/** One direction as RFC 8446, 5.2-5.3 says, in node:crypto: the oracle for the addon's. */
class Reference {
  seq = 0n;
  constructor(private readonly suite: Suite, private secret: Buffer) {}
  private keys(): { key: Buffer; nonce: Buffer } {
    const iv = expandLabel(this.suite, this.secret, 'iv', 12);
    const nonce = Buffer.from(iv);
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(this.seq);
    for (let i = 0; i < 8; i++) nonce[4 + i]! ^= seq[i]!;
    return { key: expandLabel(this.suite, this.secret, 'key', this.suite.keyLength), nonce };
  }
  update(): void {
    this.secret = expandLabel(this.suite, this.secret, 'traffic upd', this.secret.length);
    this.seq = 0n;
  }
  seal(content: Buffer, type = 23, padding = 0): Buffer {
    const { key, nonce } = this.keys();
    const inner = Buffer.concat([content, Buffer.from([type]), Buffer.alloc(padding)]);
    const header = Buffer.from([23, 3, 3, (inner.length + 16) >> 8, (inner.length + 16) & 255]);
    const c = createCipheriv(this.suite.cipher, key, nonce, { authTagLength: 16 } as never) as ReturnType<typeof createCipheriv> & { setAAD(b: Buffer): void; getAuthTag(): Buffer };
    c.setAAD(header);
    const body = Buffer.concat([c.update(inner), c.final(), c.getAuthTag()]);
    this.seq++;
    return Buffer.concat([header, body]);
  }
  /** Every record in `stream`, opened: [type, content]. */
  open(stream: Buffer): [number, Buffer][] {
    const out: [number, Buffer][] = [];
    for (let at = 0; at < stream.length;) {
      const length = stream.readUInt16BE(at + 3);
      const header = stream.subarray(at, at + 5);
      const body = stream.subarray(at + 5, at + 5 + length);
      const { key, nonce } = this.keys();
      const d = createDecipheriv(this.suite.cipher, key, nonce, { authTagLength: 16 } as never) as ReturnType<typeof createDecipheriv> & { setAAD(b: Buffer): void; setAuthTag(b: Buffer): void };
      d.setAAD(header);
      d.setAuthTag(body.subarray(body.length - 16));
      const inner = Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]);
      let end = inner.length;
      while (inner[end - 1] === 0) end--;
      out.push([inner[end - 1]!, inner.subarray(0, end - 1)]);
      this.seq++;
      at += 5 + length;
    }
    return out;
  }
}

/** `bytes` cut at random points. */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const p of at) {
    parts.push(bytes.subarray(from, p));
    from = p;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

function sealAll(records: TlsRecords, plaintexts: Buffer[]): Buffer {
  const out = Buffer.alloc(plaintexts.reduce((n, p) => n + sealedLength(p.length), 0));
  expect(records.seal(out, ...plaintexts)).toBe(out.length);
  return out;
}

const suiteArb = fc.constantFrom(...SUITES);
const secretFor = (suite: Suite) => fc.uint8Array({ minLength: suite.hash === 'sha384' ? 48 : 32, maxLength: suite.hash === 'sha384' ? 48 : 32 }).map(Buffer.from);
const plaintexts = fc.array(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 16000, maxLength: 70_000 })).map(Buffer.from), { minLength: 1, maxLength: 6 });
const params = propertyParams(60);

describe.skipIf(!Records)('the record layer against RFC 8446 in node:crypto', () => {
  it('seals what the reference opens, at any starting sequence number', () => {
    fc.assert(fc.property(suiteArb.chain((s) => fc.tuple(fc.constant(s), secretFor(s), fc.nat(1000), plaintexts)), ([suite, secret, seq, texts]) => {
      const ours = new Records!(suite.id, NONE, 0, secret, seq);
      const sealed = sealAll(ours, texts);
      const reference = new Reference(suite, secret);
      reference.seq = BigInt(seq);
      const opened = reference.open(sealed);
      expect(opened.every(([type, content]) => type === 23 && content.length <= 16384)).toBe(true);
      expect(Buffer.concat(opened.map(([, c]) => c)).equals(Buffer.concat(texts))).toBe(true);
      expect(ours.sequence()[1]).toBe(seq + opened.length);
    }), params);
  });

  it('opens what the reference seals, however the stream is cut, padding and empty records included', () => {
    const records = fc.array(fc.tuple(fc.uint8Array({ maxLength: 20_000 }).map(Buffer.from), fc.nat(40)), { minLength: 1, maxLength: 8 });
    fc.assert(fc.property(suiteArb.chain((s) => fc.tuple(fc.constant(s), secretFor(s), records, fc.array(fc.nat(), { maxLength: 12 }))), ([suite, secret, texts, points]) => {
      const reference = new Reference(suite, secret);
      const stream = Buffer.concat(texts.map(([t, padding]) => reference.seal(t, 23, padding)));
      const ours = new Records!(suite.id, secret, 0, NONE, 0);
      const got: Buffer[] = [];
      for (const part of cut(stream, points)) {
        const r = ours.receive(Buffer.from(part));
        expect(r.status, r.error).toBe(0);
        got.push(r.data);
      }
      expect(Buffer.concat(got).equals(Buffer.concat(texts.map(([t]) => t)))).toBe(true);
      expect(ours.sequence()[0]).toBe(texts.length);
    }), params);
  });

  it('refuses a record with any byte changed, with a bad_record_mac alert, and delivers nothing of it', () => {
    fc.assert(fc.property(suiteArb.chain((s) => fc.tuple(fc.constant(s), secretFor(s), fc.uint8Array({ minLength: 1, maxLength: 3000 }), fc.nat(), fc.integer({ min: 1, max: 255 }))), ([suite, secret, text, where, flip]) => {
      const reference = new Reference(suite, secret);
      const good = reference.seal(Buffer.from('before'));
      const bad = reference.seal(Buffer.from(text));
      const at = 5 + (where % (bad.length - 5)); // the header's length field would only make it wait for more
      bad[at]! ^= flip;
      const ours = new Records!(suite.id, secret, 0, secret, 0);
      const r = ours.receive(Buffer.concat([good, bad]));
      expect(r.status).toBe(2);
      expect(r.error).toMatch(/integrity/);
      expect(r.data.toString()).toBe('before');
      const alert = new Reference(suite, secret).open(r.reply);
      expect(alert).toEqual([[21, Buffer.from([2, 20])]]);
    }), params);
  });

  it('ends at close_notify, fails at other alerts and unexpected records, and follows KeyUpdate both ways', () => {
    const suite = SUITES[1]!;
    const clientSecret = randomBytes(48);
    const serverSecret = randomBytes(48);
    const client = new Reference(suite, clientSecret);
    const server = new Reference(suite, serverSecret);
    const ours = new Records!(suite.id, clientSecret, 0, serverSecret, 0);
    // KeyUpdate asking for ours, split over two records, then data under the new key.
    const first = client.seal(Buffer.from([24, 0, 0]), 22);
    const second = client.seal(Buffer.from([1, 1]), 22);
    client.update();
    const after = client.seal(Buffer.from('new key'));
    const r = ours.receive(Buffer.concat([first, second, after]));
    expect(r.status, r.error).toBe(0);
    expect(r.data.toString()).toBe('new key');
    expect(server.open(r.reply)).toEqual([[22, Buffer.from([24, 0, 0, 1, 0])]]);
    server.update();
    expect(server.open(sealAll(ours, [Buffer.from('reply')]))).toEqual([[23, Buffer.from('reply')]]);
    expect(ours.receive(client.seal(Buffer.from([1, 0]), 21)).status).toBe(1);

    const other = () => [new Reference(suite, clientSecret), new Records!(suite.id, clientSecret, 0, serverSecret, 0)] as const;
    const [c1, o1] = other();
    expect(o1.receive(c1.seal(Buffer.from([2, 40]), 21))).toMatchObject({ status: 2, error: 'the client sent TLS alert 40' });
    const [c2, o2] = other();
    expect(o2.receive(c2.seal(Buffer.from([4, 0, 0, 1, 0]), 22))).toMatchObject({ status: 2, error: 'the client sent TLS handshake message 4 after the handshake' });
    const [, o3] = other();
    expect(o3.receive(Buffer.from([22, 3, 3, 0, 1, 0]))).toMatchObject({ status: 2 });
    const [, o4] = other();
    expect(o4.receive(Buffer.from([23, 3, 3, 0x50, 0]))).toMatchObject({ status: 2, error: /longer than the protocol allows/ });
  });
});

describe.skipIf(!Records)('connections the record layer takes over from Node', () => {
  const tmp = tempDir();
  /** Requests the connection loop served over TLS, counted by wrapping the addon's startLoop. */
  let loopServed = 0;
  const io = nativeIo() as { startLoop?: Start } | null;
  const realStart = io?.startLoop;
  if (io && realStart) {
    io.startLoop = (sock, file, settings, onMessage) => realStart(sock, file, settings, (events, end) => {
      if (settings.tls) loopServed += events.length / EVENT_FIELDS;
      onMessage(events, end);
    });
  }
  let fx: TlsFixtures;
  let server: NbdServer;
  let uri: string;
  const SIZE = 8 << 20;
  const file = path.join(tmp.dir, 'disk.img');

  beforeAll(async () => {
    // The record layer takes over connections whose TLS stays on the main thread, as this
    // 2-core machine chooses (and the suite's default says, vitest.config.ts).
    process.env.BLOCKSCOPE_TLS_WORKERS = '0';
    fx = await makeTlsFixtures();
    writeFileSync(file, Buffer.alloc(SIZE));
    server = new NbdServer({ log: () => {}, tls: { mode: 'require', credentials: loadCertificates(fx.server, true) } });
    const chain = await registry.build({ plugin: { name: 'file', params: { file } }, filters: [] });
    server.addExport({ name: '', chain, writable: true });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    uri = `nbds://localhost:${port}/?tls-certificates=${fx.client}`;
  }, 120_000);
  afterAll(async () => {
    if (io && realStart) io.startLoop = realStart;
    delete process.env.BLOCKSCOPE_CONNECTION_LOOP;
    delete process.env.BLOCKSCOPE_TLS_LOOP;
    await server?.close();
    tmp.cleanup();
    fx?.cleanup();
  });

  it('nbdcopy writes and reads back byte for byte over 4 connections, the connection loop serving', async () => {
    process.env.BLOCKSCOPE_TLS_LOOP = '1';
    const before = recordLayerHandovers();
    const servedBefore = loopServed;
    const source = path.join(tmp.dir, 'source.img');
    const back = path.join(tmp.dir, 'back.img');
    const bytes = randomBytes(SIZE);
    writeFileSync(source, bytes);
    await ok('nbdcopy', ['--connections=4', source, uri]);
    await ok('nbdcopy', ['--connections=4', uri, back]);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(readFileSync(back))).toBe(sha(bytes));
    expect(recordLayerHandovers() - before).toBeGreaterThanOrEqual(2);
    // 8 MiB each way in requests of at most 2 MiB (nbdcopy's choice): most through the loop.
    if (realStart) expect(loopServed - servedBefore).toBeGreaterThan(4);
  }, 60_000);

  it.each(['1', '0'])('nbdsh: random unaligned reads and writes, with and without FUA, match a model (BLOCKSCOPE_CONNECTION_LOOP=%s)', async (loop) => {
    process.env.BLOCKSCOPE_CONNECTION_LOOP = loop;
    process.env.BLOCKSCOPE_TLS_LOOP = '1';
    const servedBefore = loopServed;
    const { seed } = propertyParams(0);
    const ops = fc.sample(fc.tuple(fc.boolean(), fc.nat(SIZE - 1), fc.oneof(fc.integer({ min: 1, max: 300_000 }), fc.integer({ min: 1_000_000, max: 3_000_000 })), fc.boolean()), { seed, numRuns: 60 });
    const script = [
      'import random',
      `random.seed(${seed})`,
      `model = bytearray(h.pread(${SIZE}, 0))`,
      ...ops.map(([write, offset, length, fua]) => {
        const n = Math.min(length, SIZE - offset);
        return write
          ? `b = random.randbytes(${n}); h.pwrite(b, ${offset}${fua ? ', nbd.CMD_FLAG_FUA' : ''}); model[${offset}:${offset + n}] = b`
          : `assert h.pread(${n}, ${offset}) == bytes(model[${offset}:${offset + n}]), ${offset}`;
      }),
      'h.flush()',
      `assert h.pread(${SIZE}, 0) == bytes(model)`,
      'print("ok")',
    ].join('\n');
    const before = recordLayerHandovers();
    const out = await ok('nbdsh', ['-c', 'h.set_uri_allow_local_file(True)', '-c', `h.connect_uri(${JSON.stringify(uri)})`, '-c', script]);
    expect(out.trim()).toBe('ok');
    expect(recordLayerHandovers() - before).toBe(1);
    // The events of what the loop served arrive in batches at most 20 ms apart.
    await new Promise((r) => setTimeout(r, 100));
    if (loop === '1' && realStart) expect(loopServed - servedBefore).toBeGreaterThan(20);
    if (loop === '0') expect(loopServed).toBe(servedBefore);
  }, 60_000);

  it('a TLS 1.2 client stays with Node\'s TLS over the tap, and is served as well', async () => {
    // GnuTLS reads its system priorities from this file: TLS 1.3 off for this client.
    const priorities = path.join(tmp.dir, 'no-tls13.conf');
    writeFileSync(priorities, '[overrides]\ndisabled-version = tls1.3\n');
    const before = recordLayerHandovers();
    const script = 'b = bytes(range(256)) * 700; h.pwrite(b, 12345); assert h.pread(len(b), 12345) == b; print("ok")';
    const out = await ok('nbdsh', ['-c', 'h.set_uri_allow_local_file(True)', '-c', `h.connect_uri(${JSON.stringify(uri)})`, '-c', script], { env: { GNUTLS_SYSTEM_PRIORITY_FILE: priorities } });
    expect(out.trim()).toBe('ok');
    expect(recordLayerHandovers() - before).toBe(0);
  }, 60_000);
});
