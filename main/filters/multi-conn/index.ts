// multi-conn: change whether NBD_FLAG_CAN_MULTI_CONN is advertised, and earn it where the
// plugin cannot (nbdkit-multi-conn-filter): in emulate mode a flush on one connection (or a
// FUA write, which becomes write + flush) is repeated on every connection, so each one sees
// what any other made durable. Dirty tracking skips flushes that would change nothing.
import { BlockError } from '../../backend/errors.ts';
import { defineFilter, type FilterHandle, type Next } from '../../backend/types.ts';

const MODES = ['auto', 'emulate', 'plugin', 'unsafe', 'disable'] as const;
const TRACKING = ['connection', 'fast', 'off'] as const;
type Mode = (typeof MODES)[number];
type Tracking = (typeof TRACKING)[number];

interface Connection {
  next: Next;
  exportName: string;
  /** Written, or read (it may hold stale data), since its last flush. */
  dirty: boolean;
}

/** State every connection of the export shares. */
interface Shared {
  connections: Set<Connection>;
  /** track-dirty=fast: anything written on any connection since the last flush. */
  written: boolean;
}

export const multiConnFilter = defineFilter({
  name: 'multi-conn',
  summary: 'advertise multi-conn, emulating it with flushes on every connection',
  params: [
    { key: 'multi-conn-mode', kind: 'enum', values: MODES, default: 'auto', description: 'auto: plugin if it has multi-conn, else emulate if it can flush; emulate: flushes repeated on all connections; plugin: as the plugin says; unsafe: advertised anyway; disable: not advertised' },
    { key: 'multi-conn-track-dirty', kind: 'enum', values: TRACKING, default: 'connection', description: 'skip flushes of clean connections (connection), of a clean export (fast), or never (off)' },
    { key: 'multi-conn-exportname', kind: 'bool', default: 'false', description: 'repeat flushes only on connections to the same export name' },
  ],
  create(params) {
    const shared: Shared = { connections: new Set(), written: false };
    return {
      open(next, options) {
        const mode = resolveMode(params['multi-conn-mode'], next);
        if (mode === 'emulate' && !next.canFlush()) {
          throw new BlockError('EINVAL', 'multi-conn: multi-conn-mode: emulate needs a layer below that can flush');
        }
        const me: Connection = { next, exportName: options.exportName, dirty: false };
        shared.connections.add(me);
        const peers = () => [...shared.connections].filter((c) => !params['multi-conn-exportname'] || c.exportName === me.exportName);
        return multiConnHandle(me, mode, params['multi-conn-track-dirty'], shared, peers);
      },
    };
  },
});

function resolveMode(mode: Mode, next: Next): Exclude<Mode, 'auto'> {
  if (mode !== 'auto') return mode;
  return next.canMultiConn() ? 'plugin' : next.canFlush() ? 'emulate' : 'disable';
}

function multiConnHandle(me: Connection, mode: Exclude<Mode, 'auto'>, tracking: Tracking, shared: Shared, peers: () => Connection[]): FilterHandle {
  const { next } = me;
  const wrote = () => {
    me.dirty = true;
    shared.written = true;
  };
  const handle: FilterHandle = {
    canMultiConn: () => (mode === 'plugin' ? next.canMultiConn() : mode !== 'disable'),
    async pread(buf, offset, flags) {
      me.dirty = true;
      await next.pread(buf, offset, flags);
    },
    pwrite: (buf, offset, flags) => (wrote(), next.pwrite(buf, offset, flags)),
    trim: (count, offset, flags) => (wrote(), next.trim(count, offset, flags)),
    zero: (count, offset, flags) => (wrote(), next.zero(count, offset, flags)),
    async flush(flags) {
      if (tracking === 'fast' && !shared.written) return;
      shared.written = false;
      const targets = mode === 'emulate' ? peers() : [me];
      for (const c of targets) {
        if (tracking === 'connection' && !c.dirty) continue;
        c.dirty = false;
        if (c.next.canFlush()) await c.next.flush(flags);
      }
    },
    close: () => void shared.connections.delete(me),
  };
  // A FUA write must reach every connection too: make it write + (replicated) flush.
  if (mode === 'emulate' && next.canFua() !== 'none') handle.canFua = () => 'emulate';
  return handle;
}
