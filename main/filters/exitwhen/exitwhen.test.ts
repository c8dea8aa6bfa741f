// exitwhen: events checked at start, as clients come and go, and by polling while idle; once
// one has happened new clients are refused and the server exits when the last one leaves.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Chain, ConnectionRefused } from '../../backend/chain.ts';
import type { PeerInfo } from '../../backend/types.ts';
import { memoryPlugin } from '../../plugins/memory/index.ts';
import { tempDir } from '../../temp-dir.ts';
import { filterInstance, sharedPlugin } from '../testing.ts';
import { exitwhenFilter } from './index.ts';

const peer: PeerInfo = { family: 'unix', credentials: null, security: null };
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function scratch(): string {
  const { dir, cleanup } = tempDir('exitwhen-');
  cleanups.push(cleanup);
  return dir;
}

async function watched(params: Record<string, string>): Promise<{ chain: Chain; reasons: string[]; stop: () => void }> {
  const plugin = await sharedPlugin(memoryPlugin, { size: '64K' });
  const chain = new Chain({ name: 'memory', instance: plugin.instance }, [await filterInstance(exitwhenFilter, params)]);
  const reasons: string[] = [];
  const stop = chain.watchServer((r) => reasons.push(r));
  cleanups.push(stop);
  return { chain, reasons, stop };
}

const settle = (ms = 60) => new Promise((r) => setTimeout(r, ms));

describe('exitwhen filter', () => {
  it('exits at once when the file already exists and no client is connected', async () => {
    const file = path.join(scratch(), 'stop');
    writeFileSync(file, '');
    const { reasons } = await watched({ 'exit-when-file-created': file });
    await settle(20);
    expect(reasons).toEqual([`exitwhen: ${file} was created`]);
  });

  it('finds the file by polling while idle', async () => {
    const file = path.join(scratch(), 'stop');
    const { reasons } = await watched({ 'exit-when-file-created': file, 'exit-when-poll': '20ms' });
    await settle();
    expect(reasons).toEqual([]);
    writeFileSync(file, '');
    await settle();
    expect(reasons).toEqual([`exitwhen: ${file} was created`]);
  });

  it('refuses new clients after the event and exits when the last one leaves', async () => {
    const dir = scratch();
    const file = path.join(dir, 'stop');
    writeFileSync(file, '');
    const { chain, reasons } = await watched({ 'exit-when-file-created': path.join(dir, 'never'), 'exit-when-file-deleted': file, 'exit-when-poll': '20ms' });
    const client = await chain.preconnect(peer);
    rmSync(file);
    await settle(); // polling stops while a client is connected
    expect(reasons).toEqual([]);
    await expect(chain.preconnect(peer)).rejects.toThrow(new ConnectionRefused('exitwhen', `${file} was deleted: the server is exiting`));
    client();
    await settle(20);
    expect(reasons).toEqual([`exitwhen: ${file} was deleted`]);
  });

  it('takes repeated keys and scripts: 88 is the event, 0 is not yet', async () => {
    const dir = scratch();
    const flag = path.join(dir, 'flag');
    const script = `test -e ${flag} && exit 88; exit 0`;
    const { reasons } = await watched({ 'exit-when-script': `true\n${script}`, 'exit-when-poll': '20ms' });
    await settle();
    expect(reasons).toEqual([]);
    writeFileSync(flag, '');
    await settle(200);
    expect(reasons).toEqual([`exitwhen: exit-when-script '${script}' exited with 88`]);
  });

  it('exits when a process has exited, and rejects a PID that is not a number', async () => {
    const { reasons } = await watched({ 'exit-when-process-exits': `${process.pid}`, 'exit-when-poll': '20ms' });
    await settle();
    expect(reasons).toEqual([]);
    const gone = spawnSync('/bin/sh', ['-c', 'echo $$']).stdout.toString().trim();
    const later = await watched({ 'exit-when-process-exits': gone });
    await settle(20);
    expect(later.reasons).toEqual([`exitwhen: process ${gone} exited`]);
    await expect(filterInstance(exitwhenFilter, { 'exit-when-process-exits': 'me' })).rejects.toThrow("exitwhen: exit-when-process-exits: 'me' is not a process ID");
  });

  it('does nothing without events', async () => {
    const { chain, reasons } = await watched({ 'exit-when-poll': '10ms' });
    (await chain.preconnect(peer))();
    await settle(40);
    expect(reasons).toEqual([]);
  });
});
