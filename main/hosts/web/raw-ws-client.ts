// Test support: a WebSocket client that writes its own frames, so a test can send what no
// well-behaved library would (bad UTF-8, unmasked frames, reserved bits and opcodes, huge
// messages), and can stop reading to play a page that never takes its replies.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { WS_PATH } from '../../../shared/ipc.ts';

export interface OutFrame {
  opcode: number;
  payload: Buffer;
  fin?: boolean;
  rsv1?: boolean;
  /** Clients must mask (RFC 6455 §5.1); false sends a frame the server has to refuse. */
  masked?: boolean;
}

export interface InFrame {
  opcode: number;
  payload: Buffer;
}

export const OP_TEXT = 0x1;
export const OP_CLOSE = 0x8;

export function encodeFrame({ opcode, payload, fin = true, rsv1 = false, masked = true }: OutFrame): Buffer {
  const len = payload.length;
  const lenBytes = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + lenBytes + (masked ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  head[1] = (masked ? 0x80 : 0) | (lenBytes === 0 ? len : lenBytes === 2 ? 126 : 127);
  if (lenBytes === 2) head.writeUInt16BE(len, 2);
  if (lenBytes === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!masked) return Buffer.concat([head, payload]);
  const mask = randomBytes(4);
  mask.copy(head, 2 + lenBytes);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
  return Buffer.concat([head, body]);
}

/** One unmasked server frame from the front of `buf`, or null until all of it has arrived. */
export function decodeFrame(buf: Buffer): { frame: InFrame; size: number } | null {
  if (buf.length < 2) return null;
  const len7 = buf[1]! & 0x7f;
  const lenBytes = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  if (buf.length < 2 + lenBytes) return null;
  const len = lenBytes === 0 ? len7 : lenBytes === 2 ? buf.readUInt16BE(2) : Number(buf.readBigUInt64BE(2));
  const size = 2 + lenBytes + len;
  if (buf.length < size) return null;
  return { frame: { opcode: buf[0]! & 0x0f, payload: buf.subarray(2 + lenBytes, size) }, size };
}

export class RawWsClient {
  readonly socket: net.Socket;
  private received: Buffer;
  private wake: (() => void) | null = null;
  private ended = false;

  private constructor(socket: net.Socket, leftover: Buffer) {
    this.socket = socket;
    this.received = leftover;
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  /** Open the contract's WebSocket with the host's token and our own Origin, as the page would. */
  static async connect(base: string, token: string): Promise<RawWsClient> {
    const { hostname, port, host } = new URL(base);
    const socket = net.connect(Number(port), hostname);
    // Writing a frame the server has already refused can fail with EPIPE: that is the point.
    socket.on('error', () => {});
    socket.write(
      `GET ${WS_PATH}?token=${token} HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${base}\r\n` +
        `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
    );
    const { head, rest } = await readHead(socket);
    if (!head.startsWith('HTTP/1.1 101 ')) throw new Error(`handshake refused: ${head.split('\r\n')[0]}`);
    return new RawWsClient(socket, rest);
  }

  send(frame: OutFrame): void {
    this.socket.write(encodeFrame(frame));
  }

  sendText(text: string): void {
    this.send({ opcode: OP_TEXT, payload: Buffer.from(text) });
  }

  /** Take nothing more from the host: its replies pile up in the host and the kernel. */
  stopReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  /** The next frame from the host, or null when the connection ended first. */
  async nextFrame(): Promise<InFrame | null> {
    for (;;) {
      const got = decodeFrame(this.received);
      if (got) {
        this.received = this.received.subarray(got.size);
        return got.frame;
      }
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** The status code in the host's close frame, skipping the events sent before it. */
  async closeCode(): Promise<number | null> {
    for (let frame = await this.nextFrame(); frame; frame = await this.nextFrame()) {
      if (frame.opcode === OP_CLOSE) return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : null;
    }
    return null;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function readHead(socket: net.Socket): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve({ head: buf.subarray(0, end).toString('latin1'), rest: buf.subarray(end + 4) });
    };
    const onClose = () => reject(new Error('closed during the handshake'));
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}
