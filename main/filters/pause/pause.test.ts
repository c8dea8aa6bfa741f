import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { delayFilter } from '../delay/index.ts';
import { memoryPlugin } from '../../plugins/memory/index.ts';
import { tempDir } from '../../temp-dir.ts';
import { filterInstance, sharedPlugin } from '../testing.ts';
import { pauseFilter, PauseGate } from './index.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;

/** A control connection: `send(bytes)` resolves with as many answer bytes. */
async function control(socketPath: string) {
  const socket: Socket = connect(socketPath);
  await new Promise((r) => socket.once('connect', r));
  let received = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (d) => {
    received += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  return {
    async send(text: string): Promise<string> {
      const want = received.length + text.length;
      socket.write(text);
      while (received.length < want) await new Promise<void>((r) => waiters.push(r));
      return received.slice(want - text.length, want);
    },
    close: () => socket.destroy(),
  };
}

async function paused(extraBelow = false) {
  const socketPath = path.join(tmp.dir, `pause-${n++}.sock`);
  const pause = await filterInstance(pauseFilter, { 'pause-control': socketPath });
  const filters = [pause];
  if (extraBelow) filters.push(await filterInstance(delayFilter, { rdelay: '100ms' }));
  const disk = await sharedPlugin(memoryPlugin, { size: '1M' });
  const open = await disk.open(filters);
  const ctl = await control(socketPath);
  return { open, ctl, done: async () => (ctl.close(), await open.close(), await pause.instance.unload?.()) };
}

const settled = (p: Promise<unknown>) => Promise.race([p.then(() => true), new Promise((r) => setTimeout(() => r(false), 50))]);

describe('pause filter', () => {
  it('holds requests between p and r, answering P and R', async () => {
    const { open, ctl, done } = await paused();
    expect(await ctl.send('p')).toBe('P');
    const read = open.top.pread(Buffer.alloc(512), 0);
    expect(await settled(read)).toBe(false);
    expect(await ctl.send('r')).toBe('R');
    expect(await settled(read)).toBe(true);
    await done();
  });

  it('answers P only after the requests already running have finished', async () => {
    const { open, ctl, done } = await paused(true);
    const order: string[] = [];
    const read = open.top.pread(Buffer.alloc(512), 0).then(() => order.push('read'));
    await new Promise((r) => setTimeout(r, 10));
    await ctl.send('p').then((a) => order.push(a));
    await read;
    expect(order).toEqual(['read', 'P']);
    await ctl.send('r');
    await done();
  });

  it('answers X to anything else, in order', async () => {
    const { ctl, done } = await paused();
    expect(await ctl.send('p\nr?')).toBe('PXRX');
    await done();
  });

  it('a gate with nothing running pauses at once', async () => {
    const gate = new PauseGate();
    await gate.pause();
    const ran = gate.run(async () => 'ran');
    expect(await settled(ran)).toBe(false);
    gate.resume();
    expect(await ran).toBe('ran');
  });
});
