import { describe, expect, it } from 'vitest';
import { RpcGate, type GateLimits, type GateSocket } from './rpc-gate.ts';

const LIMITS: GateLimits = { maxInFlight: 2, highWaterBytes: 100, maxWaiting: 3, congestedBytes: 50, cutOffBytes: 200 };

class FakeSocket implements GateSocket {
  readyState = 1;
  bufferedAmount = 0;
  paused = false;
  sent: string[] = [];
  closedWith: [number, string] | null = null;
  private unflushed: (() => void)[] = [];

  send(text: string, flushed: () => void): void {
    this.sent.push(text);
    this.unflushed.push(flushed);
  }
  /** The kernel takes everything written so far. */
  flush(): void {
    for (const done of this.unflushed.splice(0)) done();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
    this.readyState = 2;
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function setup() {
  const socket = new FakeSocket();
  const errors: unknown[] = [];
  const gate = new RpcGate(socket, (err) => errors.push(err), LIMITS);
  const started: string[] = [];
  const call = (name: string) => gate.submit(async () => (started.push(name), name));
  return { socket, gate, errors, started, call };
}

describe('RpcGate', () => {
  it('answers two calls at once and stops reading while the others wait', async () => {
    const { socket, gate, started, call } = setup();
    ['a', 'b', 'c'].forEach(call);
    await settle();
    expect(started).toEqual(['a', 'b']);
    expect(socket.paused).toBe(true);
    expect(gate.pendingCalls).toBe(3);
  });

  it('starts waiting calls and reads again once replies are flushed', async () => {
    const { socket, gate, started, call } = setup();
    ['a', 'b', 'c'].forEach(call);
    await settle();
    socket.flush();
    await settle();
    expect(started).toEqual(['a', 'b', 'c']);
    expect(socket.sent).toEqual(['a', 'b', 'c']);
    expect(socket.paused).toBe(false);
    socket.flush();
    expect(gate.pendingCalls).toBe(0);
  });

  it('starts no call while the page is a high-water mark behind', async () => {
    const { socket, started, call } = setup();
    socket.bufferedAmount = 100;
    call('a');
    await settle();
    expect(started).toEqual([]);
    expect(socket.paused).toBe(true);
  });

  it('closes with 1008 when calls keep coming while paused', async () => {
    const { socket, gate, call } = setup();
    ['a', 'b', 'c', 'd', 'e', 'f'].forEach(call);
    expect(socket.closedWith).toEqual([1008, 'too many requests']);
    expect(gate.pendingCalls).toBe(2);
  });

  it('logs a failed answer and frees its slot', async () => {
    const { socket, gate, errors, started, call } = setup();
    gate.submit(() => Promise.reject(new Error('boom')));
    ['a', 'b'].forEach(call);
    await settle();
    expect(errors).toEqual([new Error('boom')]);
    expect(started).toEqual(['a', 'b']);
    expect(socket.paused).toBe(false);
  });

  it('skips droppable events while congested, and cuts off a page far behind', () => {
    const { socket, gate } = setup();
    socket.bufferedAmount = 60;
    gate.notify('stats', true);
    gate.notify('map', false);
    expect(socket.sent).toEqual(['map']);
    socket.bufferedAmount = 201;
    gate.notify('map', false);
    expect(socket.closedWith).toEqual([1008, 'not reading']);
  });

  it('answers nothing once the socket has closed', async () => {
    const { socket, gate, started, call } = setup();
    gate.shut();
    call('a');
    await settle();
    expect(started).toEqual([]);
    expect(socket.sent).toEqual([]);
  });
});
