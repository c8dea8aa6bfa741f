// pause: hold requests while a controller says so (nbdkit-pause-filter), e.g. to snapshot
// the storage below. A Unix socket (pause-control) takes one-byte commands: 'p' pauses, and
// 'P' comes back once the requests already running have finished; 'r' resumes and answers
// 'R'; any other byte answers 'X'. Requests that arrive while paused wait.
import { lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { defineFilter } from '../../backend/types.ts';
import { interceptDataOps } from '../intercept.ts';

/** The export's pause state: a gate requests pass, and a count of those past it. */
export class PauseGate {
  private paused: { resumed: Promise<void>; resume: () => void } | null = null;
  private running = 0;
  private idleWaiters: (() => void)[] = [];

  async run<T>(request: () => Promise<T>): Promise<T> {
    while (this.paused) await this.paused.resumed;
    this.running++;
    try {
      return await request();
    } finally {
      if (--this.running === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Stop new requests; resolves once none is running. */
  async pause(): Promise<void> {
    if (!this.paused) {
      let resume!: () => void;
      const resumed = new Promise<void>((r) => (resume = r));
      this.paused = { resumed, resume };
    }
    if (this.running > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  resume(): void {
    this.paused?.resume();
    this.paused = null;
  }
}

/** Answers one control connection's bytes in order, each after its command took effect. */
function serveControl(socket: Socket, gate: PauseGate): void {
  let queue = Promise.resolve();
  socket.on('data', (bytes) => {
    for (const byte of bytes) {
      queue = queue.then(async () => {
        const command = String.fromCharCode(byte);
        if (command === 'p') await gate.pause();
        else if (command === 'r') gate.resume();
        socket.write(command === 'p' ? 'P' : command === 'r' ? 'R' : 'X');
      }).catch(() => {});
    }
  });
  socket.on('error', () => socket.destroy());
}

/** Listen on `path`, replacing a stale socket left by an earlier run (never a regular file). */
async function listenControl(path: string, gate: PauseGate): Promise<Server> {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Nothing there: the usual case.
  }
  const server = createServer((socket) => serveControl(socket, gate));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return server;
}

export const pauseFilter = defineFilter({
  name: 'pause',
  summary: 'pause and resume requests from a control socket (p / r), e.g. for snapshots',
  params: [
    { key: 'pause-control', kind: 'path', required: true, description: 'Unix socket taking p (pause) and r (resume)' },
  ],
  async create(params) {
    const gate = new PauseGate();
    const path = params['pause-control'];
    const server = await listenControl(path, gate).catch((err: Error) => {
      throw new Error(`pause: pause-control: cannot listen on ${path}: ${err.message}`);
    });
    return {
      open: (next) => interceptDataOps(next, (_req, run) => gate.run(run)),
      async unload() {
        gate.resume();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  },
});
