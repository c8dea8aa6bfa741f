// The real engine behind a Session: the catalogue of plugins and filters, the format and
// partition readers and the NBD server. Hosts call createSession(); tests of the services
// may build a Session from their own parts instead.
import os from 'node:os';
import path from 'node:path';
import type { DemoLayoutInfo } from '../../shared/ipc.ts';
import { registry } from '../catalog.ts';
import { demoLayout, ensureDemoImage, type DemoLayout } from '../demo/index.ts';
import { detectImage } from '../formats/detect.ts';
import { detectFilesystem } from '../formats/filesystems/index.ts';
import { readPartitionTable } from '../formats/partitions/index.ts';
import { NbdServer } from '../nbd/server.ts';
import { Session, type SessionDeps } from './session.ts';

/** Where the recent list lives: $XDG_STATE_HOME/blockscope, else ~/.local/state/blockscope. */
export function defaultStateDir(): string {
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'blockscope');
}

/** The demo's layout in the contract's shape ([start, length] pairs). */
export function demoLayoutInfo(layout: DemoLayout): DemoLayoutInfo {
  const pairs = (ranges: readonly { offset: number; length: number }[]) => ranges.map((r): [number, number] => [r.offset, r.length]);
  return {
    size: layout.size,
    partitions: layout.partitions.map((p) => ({ number: p.number, name: p.name, start: p.offset, length: p.length, label: p.filesystem.label })),
    dataRanges: pairs(layout.dataRanges),
    zeroRanges: pairs(layout.zeroRanges),
    holeRanges: pairs(layout.holeRanges),
  };
}

async function builtInDemo(): Promise<{ path: string; layout: DemoLayoutInfo }> {
  return { path: await ensureDemoImage(), layout: demoLayoutInfo(demoLayout()) };
}

export function createSession(options: { stateDir?: string | null; demoImage?: SessionDeps['demoImage'] } = {}): Session {
  return new Session({
    registry,
    detectImage,
    readPartitions: readPartitionTable,
    readFilesystem: detectFilesystem,
    demoImage: options.demoImage ?? builtInDemo,
    createServer: ({ log, tls }) => new NbdServer({ log, tls }),
    stateDir: options.stateDir === undefined ? defaultStateDir() : options.stateDir,
  });
}
