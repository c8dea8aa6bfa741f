// noparallel: take parallelism away (nbdkit-noparallel-filter), to time its worth or to
// shield a plugin that misbehaves under it: one request at a time per connection
// (requests), over all connections (all-requests), or one client at a time (connections;
// later clients wait before the handshake until the one being served leaves).
import { defineFilter, type FilterHandle, type Next, type Release } from '../../backend/types.ts';
import { interceptDataOps } from '../intercept.ts';

/** Runs the functions given to it one after another, in call order. */
export type Serial = <T>(fn: () => Promise<T>) => Promise<T>;

export function serial(): Serial {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const run = tail.then(fn);
    tail = run.catch(() => {});
    return run;
  };
}

export const noparallelFilter = defineFilter({
  name: 'noparallel',
  summary: 'serve one request, or one client, at a time',
  params: [
    {
      key: 'serialize', kind: 'enum', values: ['requests', 'all-requests', 'connections'] as const, default: 'requests',
      description: 'requests: one in flight per connection; all-requests: one in flight overall; connections: one client at a time (no multi-conn)',
    },
  ],
  create(params) {
    const mode = params.serialize;
    const overall = serial();
    let lastClient: Promise<void> = Promise.resolve();
    return {
      ...(mode === 'connections' && {
        async preconnect(): Promise<Release> {
          const before = lastClient;
          let release!: Release;
          lastClient = new Promise<void>((resolve) => (release = resolve));
          await before;
          return release;
        },
      }),
      open(next) {
        const handle = serialized(next, mode === 'requests' ? serial() : overall);
        return mode === 'connections' ? { ...handle, canMultiConn: () => false } : handle;
      },
    };
  },
});

function serialized(next: Next, one: Serial): FilterHandle {
  return interceptDataOps(next, (_request, run) => one(run));
}
