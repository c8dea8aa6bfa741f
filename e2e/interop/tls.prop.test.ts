// A seeded property: random option sequences, with STARTTLS anywhere in them (really
// upgrading to TLS with node:tls as the client), sent to servers with --tls off, on and
// require, get exactly the replies a small model of nbdkit's policy and the NBD spec's TLS
// section predicts.
import fc from 'fast-check';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../main/catalog.ts';
import { OPT, REP } from '../../main/nbd/protocol.ts';
import { encodeOption } from '../../main/nbd/request-header.ts';
import { NbdServer } from '../../main/nbd/server.ts';
import { loadCertificates, type TlsMode } from '../../main/nbd/tls-credentials.ts';
import { propertyParams, propertyTimeout } from '../../main/testing/property-params.ts';
import { makeTlsFixtures, type TlsFixtures } from './tls-fixtures.ts';

type Step = 'STARTTLS' | 'STRUCTURED_REPLY' | 'LIST' | 'INFO' | 'INFO_UNKNOWN' | 'SET_META_CONTEXT' | 'UNKNOWN';
type End = 'GO' | 'ABORT' | 'EXPORT_NAME';
/** What the client saw: each option's last reply type, 'export' (EXPORT_NAME's answer) or 'closed'. */
type Seen = number | 'export' | 'closed';

function infoData(name: string): Buffer {
  const b = Buffer.alloc(6 + name.length);
  b.writeUInt32BE(name.length, 0);
  b.write(name, 4);
  return b;
}

function metaData(): Buffer {
  const q = Buffer.from('base:allocation');
  const b = Buffer.alloc(12 + q.length);
  b.writeUInt32BE(1, 4);
  b.writeUInt32BE(q.length, 8);
  q.copy(b, 12);
  return b;
}

const OPTIONS: Record<Step | End, Buffer> = {
  STARTTLS: encodeOption(OPT.STARTTLS),
  STRUCTURED_REPLY: encodeOption(OPT.STRUCTURED_REPLY),
  LIST: encodeOption(OPT.LIST),
  INFO: encodeOption(OPT.INFO, infoData('')),
  INFO_UNKNOWN: encodeOption(OPT.INFO, infoData('nope')),
  SET_META_CONTEXT: encodeOption(OPT.SET_META_CONTEXT, metaData()),
  UNKNOWN: encodeOption(99),
  GO: encodeOption(OPT.GO, infoData('')),
  ABORT: encodeOption(OPT.ABORT),
  EXPORT_NAME: encodeOption(OPT.EXPORT_NAME),
};

/** The replies nbdkit's --tls policy and the spec call for. */
function model(mode: TlsMode, steps: (Step | End)[]): Seen[] {
  const seen: Seen[] = [];
  let onTls = false;
  let structured = false;
  for (const step of steps) {
    if (mode === 'require' && !onTls && step !== 'STARTTLS' && step !== 'ABORT') {
      if (step === 'EXPORT_NAME') return [...seen, 'closed'];
      seen.push(REP.ERR_TLS_REQD);
      continue;
    }
    if (step === 'STARTTLS') {
      seen.push(mode === 'off' ? REP.ERR_POLICY : onTls ? REP.ERR_INVALID : REP.ACK);
      if (mode !== 'off' && !onTls) [onTls, structured] = [true, false];
    } else if (step === 'STRUCTURED_REPLY') {
      structured = true;
      seen.push(REP.ACK);
    } else if (step === 'SET_META_CONTEXT') {
      seen.push(structured ? REP.ACK : REP.ERR_INVALID);
    } else {
      const replies: Record<string, Seen> = { LIST: REP.ACK, INFO: REP.ACK, INFO_UNKNOWN: REP.ERR_UNKNOWN, UNKNOWN: REP.ERR_UNSUP, GO: REP.ACK, ABORT: REP.ACK, EXPORT_NAME: 'export' };
      seen.push(replies[step]!);
    }
  }
  return seen;
}

/** Bytes from whichever socket carries the session (plain, then TLS). */
class Reader {
  private buf = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | null = null;
  private readonly onData = (d: Buffer) => this.push(d);
  private readonly onEnd = () => {
    this.ended = true;
    this.push(Buffer.alloc(0));
  };

  constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  attach(socket: net.Socket): void {
    this.socket.off('data', this.onData).off('end', this.onEnd).off('close', this.onEnd);
    this.socket = socket;
    socket.on('data', this.onData).on('end', this.onEnd).on('close', this.onEnd).on('error', () => {});
  }

  private push(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    this.wake?.();
  }

  /** `n` bytes, or null once the server has closed. */
  async take(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) {
      if (this.ended) return null;
      await new Promise<void>((r) => (this.wake = r));
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

/** Option replies up to the final one (ACK or an error); its type, or 'closed'. */
async function finalReply(reader: Reader): Promise<Seen> {
  for (;;) {
    const h = await reader.take(20);
    if (!h) return 'closed';
    const type = h.readUInt32BE(12);
    if ((await reader.take(h.readUInt32BE(16))) === null) return 'closed';
    if (type === REP.ACK || type >= 2 ** 31) return type;
  }
}

async function session(port: number, ca: Buffer, steps: (Step | End)[]): Promise<Seen[]> {
  const plain = net.connect(port, '127.0.0.1');
  const reader = new Reader(plain);
  const seen: Seen[] = [];
  try {
    await reader.take(18);
    plain.write(Buffer.from([0, 0, 0, 3]));
    for (const step of steps) {
      reader.socket.write(OPTIONS[step]);
      const reply = step === 'EXPORT_NAME' ? ((await reader.take(10)) ? 'export' : 'closed') : await finalReply(reader);
      seen.push(reply);
      if (reply === 'closed') break;
      if (step === 'STARTTLS' && reply === REP.ACK) {
        reader.attach(new net.Socket()); // stop reading the plain socket before TLS takes it
        const secure = tls.connect({ socket: plain, ca, servername: 'localhost' });
        await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
        reader.attach(secure);
      }
    }
  } finally {
    reader.socket.destroy();
    plain.destroy();
  }
  return seen;
}

const stepArb = fc.constantFrom<Step>('STARTTLS', 'STRUCTURED_REPLY', 'LIST', 'INFO', 'INFO_UNKNOWN', 'SET_META_CONTEXT', 'UNKNOWN');
const planArb = fc.record({
  mode: fc.constantFrom<TlsMode>('off', 'on', 'require'),
  steps: fc.array(stepArb, { maxLength: 6 }),
  end: fc.constantFrom<End>('GO', 'ABORT', 'EXPORT_NAME'),
});

describe('STARTTLS policy against a model', () => {
  let fx: TlsFixtures;
  const servers = new Map<TlsMode, { server: NbdServer; port: number }>();
  beforeAll(async () => {
    fx = await makeTlsFixtures();
    const credentials = loadCertificates(fx.server, false);
    for (const mode of ['off', 'on', 'require'] as const) {
      const server = new NbdServer({ log: () => {}, tls: mode === 'off' ? undefined : { mode, credentials } });
      const chain = await registry.build({ plugin: { name: 'memory', params: { size: '1M' } }, filters: [] });
      server.addExport({ name: '', chain, writable: false });
      const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
      servers.set(mode, { server, port: port! });
    }
  });
  afterAll(async () => {
    for (const { server } of servers.values()) await server.close();
    fx?.cleanup();
  });

  it('replies as the model says, for every mode and option order', async () => {
    const ca = readFileSync(path.join(fx.server, 'ca-cert.pem'));
    await fc.assert(fc.asyncProperty(planArb, async ({ mode, steps, end }) => {
      const plan = [...steps, end];
      expect(await session(servers.get(mode)!.port, ca, plan)).toEqual(model(mode, plan));
    }), propertyParams(60));
  }, propertyTimeout(120_000));
});
