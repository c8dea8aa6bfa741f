// Connection against a scripted socket: bytes go in through receive() exactly as the server's
// reused read buffer delivers them, and replies stay "unsent" until the test says the client
// read them, so a client that never reads can be played deterministically.
import { encodeOption, encodeRequest } from './request-header.ts';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { registry } from '../catalog.ts';
import { Connection, type ConnectionHost } from './connection.ts';
import type { ServedExport } from './export.ts';
import { CMD, CMD_FLAG, OPT, REP } from './protocol.ts';
import { ReplyBudget } from './reply-budget.ts';

const MiB = 1024 * 1024;

class ScriptedSocket extends EventEmitter {
  readonly sent: Buffer[] = [];
  private unsent: { b: Buffer; done?: () => void }[] = [];
  writableLength = 0;
  writableNeedDrain = false;
  destroyed = false;
  private paused = false;

  write(b: Buffer, done?: () => void): boolean {
    this.sent.push(b);
    this.unsent.push({ b, done });
    this.writableLength += b.length;
    this.writableNeedDrain = this.writableLength >= 16384;
    return !this.writableNeedDrain;
  }

  /** The client reads everything sent so far. */
  flush(): void {
    const all = this.unsent.splice(0);
    this.writableLength = 0;
    for (const w of all) w.done?.();
    if (this.writableNeedDrain) {
      this.writableNeedDrain = false;
      this.emit('drain');
    }
  }

  /** What the client has sent that this socket has not delivered yet (it delivers nothing while paused). */
  private inbox: Buffer[] = [];
  receiver: ((chunk: Buffer) => void) | null = null;

  /** The client sends `bytes`: they arrive in 64 KiB reads through one reused buffer, as net's onread delivers them. */
  send(bytes: Buffer): void {
    for (let at = 0; at < bytes.length; at += 65536) this.inbox.push(bytes.subarray(at, at + 65536));
    this.deliver();
  }

  private deliver(): void {
    const reused = Buffer.alloc(65536);
    while (!this.paused && this.inbox.length > 0) {
      const chunk = this.inbox.shift()!;
      chunk.copy(reused);
      this.receiver?.(reused.subarray(0, chunk.length));
      reused.fill(0xee);
    }
  }

  pause(): void { this.paused = true; }
  resume(): void {
    this.paused = false;
    setImmediate(() => this.deliver());
  }
  isPaused(): boolean { return this.paused; }
  cork(): void {}
  uncork(): void {}
  setNoDelay(): void {}
  /** Like net's: `done` once the client has read everything sent (flush()), then the socket may close. */
  end(done?: () => void): void {
    if (this.unsent.length === 0) done?.();
    else this.unsent.push({ b: Buffer.alloc(0), done });
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    setImmediate(() => this.emit('close'));
  }
}

const option = encodeOption;

function read(cookie: number, offset: number, length: number): Buffer {
  return request(CMD.READ, 0, cookie, offset, length);
}

function request(type: number, flags: number, cookie: number, offset: number, length: number): Buffer {
  return encodeRequest({ type, flags, cookie, offset, length });
}

const FLAGS = Buffer.from([0, 0, 0, 3]);
const settle = () => new Promise((r) => setTimeout(r, 30));

async function hostWith(budget: ReplyBudget, writeDelay?: string): Promise<ConnectionHost & { logs: string[] }> {
  const filters = writeDelay ? [{ name: 'delay', params: { wdelay: writeDelay }, enabled: true }] : [];
  const chain = await registry.build({ plugin: { name: 'memory', params: { size: '64M' } }, filters });
  const exp: ServedExport = { name: '', chain, writable: true, chainLabel: 'memory' };
  const logs: string[] = [];
  return {
    logs, verbose: false, onRequest: null, replyBudget: budget,
    log: (l) => logs.push(l), connected: () => {}, closed: () => {},
    findExport: (name) => (name === '' ? exp : undefined), listExports: () => [exp],
  };
}

const open: ScriptedSocket[] = [];
const connections = new WeakMap<ScriptedSocket, Connection>();
afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  await settle();
});

function connect(host: ConnectionHost): ScriptedSocket {
  const socket = new ScriptedSocket();
  open.push(socket);
  const conn = new Connection(open.length, socket as unknown as Socket, host, true);
  connections.set(socket, conn);
  socket.receiver = (chunk) => conn.receive(chunk, true);
  return socket;
}

/**
 * The simple replies (16 bytes each) sent since the handshake, however the reply writer
 * grouped them into writes.
 */
function simpleReplies(socket: ScriptedSocket): Buffer[] {
  return socket.sent.flatMap((b) => Array.from({ length: b.length / 16 }, (_, i) => b.subarray(16 * i, 16 * i + 16)));
}

/** Hand `bytes` to the connection through one reused buffer of `piece` bytes, as net's onread does. */
function trickle(conn: Connection, bytes: Buffer, piece: number): void {
  const reused = Buffer.alloc(piece);
  for (let at = 0; at < bytes.length; at += piece) {
    const n = bytes.copy(reused, 0, at, Math.min(at + piece, bytes.length));
    conn.receive(reused.subarray(0, n), true);
    reused.fill(0xee);
  }
}

describe('Connection', () => {
  it('accepts FUA on every command once SEND_FUA is advertised, as the spec requires', async () => {
    const socket = connect(await hostWith(new ReplyBudget()));
    await startTransmission(socket);
    deliver(socket, Buffer.concat([request(CMD.FLUSH, CMD_FLAG.FUA, 1, 0, 0), request(CMD.CACHE, CMD_FLAG.FUA, 2, 0, 4096)]));
    await settle();
    expect(simpleReplies(socket).map((b) => [b.readUInt32BE(4), Number(b.readBigUInt64BE(8))]).sort()).toEqual([[0, 1], [0, 2]]);
  });

  it('takes a 1 MiB option sent 32 bytes at a time in linear time', async () => {
    const socket = connect(await hostWith(new ReplyBudget()));
    const big = option(99, Buffer.alloc(MiB, 7));
    const missing = Buffer.from('missing');
    const info = Buffer.concat([Buffer.from([0, 0, 0, missing.length]), missing, Buffer.alloc(2)]);
    const started = performance.now();
    trickle(connections.get(socket)!, Buffer.concat([FLAGS, big, option(OPT.INFO, info)]), 32);
    await settle();
    const elapsed = performance.now() - started;
    // Greeting, ERR_UNSUP for the big option, ERR_UNKNOWN naming the export of the next one:
    // the option boundaries survived the reused buffer.
    const types = socket.sent.slice(1).map((b) => b.readUInt32BE(12));
    expect(types).toEqual([REP.ERR_UNSUP, REP.ERR_UNKNOWN]);
    expect(socket.sent[2]!.subarray(20).toString()).toBe("no export named 'missing'");
    // Copying everything buffered on every piece took ~19 s of CPU here.
    expect(elapsed).toBeLessThan(2000);
  });

  it('stops taking READs while its unsent replies exceed its share, and resumes as the client reads', async () => {
    const host = await hostWith(new ReplyBudget(4 * MiB, 16 * MiB));
    const socket = connect(host);
    await startTransmission(socket);
    const requests = Buffer.concat(Array.from({ length: 32 }, (_, i) => read(i + 1, i * MiB, MiB)));
    deliver(socket, requests);
    await settle();
    // Four 1 MiB replies reach the 4 MiB share; nothing more is read while they sit unsent.
    expect(replyBytes(socket)).toBe(4 * (16 + MiB));
    for (let i = 0; i < 20 && replyBytes(socket) < 32 * (16 + MiB); i++) {
      socket.flush();
      await settle();
    }
    expect(replyBytes(socket)).toBe(32 * (16 + MiB));
    expect(host.replyBudget.held).toBe(4 * (16 + MiB));
    socket.flush();
    expect(host.replyBudget.held).toBe(0);
  });

  it('closes a connection whose client stops reading after DISC, within the grace period', async () => {
    const socket = connect(await hostWith(new ReplyBudget()));
    await startTransmission(socket);
    deliver(socket, Buffer.concat([read(1, 0, MiB), read(2, MiB, MiB), request(CMD.DISC, 0, 3, 0, 0)]));
    await settle();
    // Both replies were written; the client reads neither, so the end never completes.
    expect(replyBytes(socket)).toBe(2 * (16 + MiB));
    expect(socket.destroyed).toBe(false);
    for (let i = 0; i < 60 && !socket.destroyed; i++) await new Promise((r) => setTimeout(r, 50));
    expect(socket.destroyed).toBe(true);
  });

  it('answers the requests before a bad request magic, then closes', async () => {
    const socket = connect(await hostWith(new ReplyBudget()));
    await startTransmission(socket);
    deliver(socket, Buffer.concat([read(1, 0, 4096), Buffer.alloc(28, 0x42), read(2, 0, 4096)]));
    await settle();
    // The READ before the junk is answered; nothing after it is read.
    expect(replyBytes(socket)).toBe(16 + 4096);
    expect(socket.destroyed).toBe(false);
    socket.flush();
    await settle();
    expect(socket.destroyed).toBe(true);
  });

  it('closes a connection that broke the protocol within the grace period, even with a request still running', async () => {
    const socket = connect(await hostWith(new ReplyBudget(), '10s'));
    await startTransmission(socket);
    deliver(socket, Buffer.concat([request(CMD.WRITE, 0, 1, 0, 4096), Buffer.alloc(4096), Buffer.alloc(28, 0x42)]));
    await settle();
    expect(socket.destroyed).toBe(false);
    for (let i = 0; i < 60 && !socket.destroyed; i++) await new Promise((r) => setTimeout(r, 50));
    expect(socket.destroyed).toBe(true);
  });

  it('counts WRITE payloads waiting for a slow disk against the same share', async () => {
    // A disk slow enough that a loaded machine still looks between two of its rounds.
    const host = await hostWith(new ReplyBudget(4 * MiB, 16 * MiB), '500ms');
    const socket = connect(host);
    await startTransmission(socket);
    const write = (i: number) => Buffer.concat([request(CMD.WRITE, 0, i + 1, i * MiB, MiB), Buffer.alloc(MiB, i)]);
    deliver(socket, Buffer.concat(Array.from({ length: 32 }, (_, i) => write(i))));
    for (let i = 0; i < 50 && socket.sent.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    // One round of the slow disk: only the writes that fit the 4 MiB share were taken.
    expect(simpleReplies(socket).length).toBe(4);
    for (let i = 0; i < 100 && simpleReplies(socket).length < 32; i++) await new Promise((r) => setTimeout(r, 100));
    expect(simpleReplies(socket).every((b) => b.readUInt32BE(4) === 0)).toBe(true);
    expect(simpleReplies(socket).length).toBe(32);
  });

  it('caps the server-wide total without starving a connection that holds nothing', async () => {
    const host = await hostWith(new ReplyBudget(4 * MiB, 16 * MiB));
    const sockets = Array.from({ length: 6 }, () => connect(host));
    for (const s of sockets) await startTransmission(s);
    const requests = Buffer.concat(Array.from({ length: 32 }, (_, i) => read(i + 1, i * MiB, MiB)));
    for (const s of sockets) deliver(s, requests);
    await settle();
    const each = sockets.map(replyBytes);
    // Every connection was served at least once; together they stop near the total.
    expect(Math.min(...each)).toBeGreaterThanOrEqual(MiB);
    expect(each.reduce((a, b) => a + b)).toBeLessThanOrEqual(16 * MiB + 6 * (16 + MiB));
    // A client that disconnects gives its share back.
    const before = host.replyBudget.held;
    sockets[0]!.destroy();
    await settle();
    expect(host.replyBudget.held).toBeLessThan(before);
  });
});

function deliver(socket: ScriptedSocket, bytes: Buffer): void {
  socket.send(bytes);
}

async function startTransmission(socket: ScriptedSocket): Promise<void> {
  deliver(socket, Buffer.concat([FLAGS, option(OPT.GO, Buffer.alloc(6))]));
  await settle();
  socket.flush();
  socket.sent.splice(0);
}

/** Bytes of transmission replies handed to the socket so far. */
function replyBytes(socket: ScriptedSocket): number {
  return socket.sent.reduce((n, b) => n + b.length, 0);
}
