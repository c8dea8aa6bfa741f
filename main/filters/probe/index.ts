// probe (tests only, never registered): a filter, and a wrapper for a plugin, that log
// every callback they see, with their layer's name and arguments, into one shared array.
// Several probes in one chain show the order in which the backend calls the layers
// (nbdkit's tests/test-layers.c does the same with three filters).
import type { FilterDefinition, FilterHandle, Next, PluginDefinition, PluginHandle } from '../../backend/types.ts';
import { interceptDataOps } from '../intercept.ts';

export interface ProbeCall {
  layer: string;
  call: string;
  /** The callback's arguments; Buffers appear as their length. */
  args: unknown[];
}

/** `layer.call` for each entry: the easiest form to compare literally. */
export function callNames(log: readonly ProbeCall[]): string[] {
  return log.map((c) => `${c.layer}.${c.call}`);
}

/** Wrap every function of `callbacks` so that each call is logged before it runs. */
function logged<T extends object>(layer: string, callbacks: T, log: ProbeCall[]): T {
  const out: Record<string, unknown> = {};
  for (const [call, fn] of Object.entries(callbacks)) {
    if (typeof fn !== 'function') continue;
    out[call] = (...args: unknown[]) => {
      log.push({ layer, call, args: args.map((a) => (Buffer.isBuffer(a) ? a.length : a)) });
      return fn.apply(callbacks, args);
    };
  }
  return out as T;
}

/** A filter handle that defines every callback and changes nothing. */
function passThrough(next: Next): FilterHandle {
  return {
    getSize: () => next.getSize(),
    canWrite: () => next.canWrite(),
    canFlush: () => next.canFlush(),
    isRotational: () => next.isRotational(),
    canTrim: () => next.canTrim(),
    canZero: () => next.canZero(),
    canFastZero: () => next.canFastZero(),
    canFua: () => next.canFua(),
    canMultiConn: () => next.canMultiConn(),
    canCache: () => next.canCache(),
    canExtents: () => next.canExtents(),
    ...interceptDataOps(next, (_req, run) => run()),
    close: () => {},
  };
}

export function probeFilter(name: string, log: ProbeCall[]): FilterDefinition {
  return {
    name,
    summary: 'test probe: logs every callback',
    params: [],
    create: () => ({
      open(next, options) {
        log.push({ layer: name, call: 'open', args: [options] });
        return logged(name, passThrough(next), log);
      },
      unload() {
        log.push({ layer: name, call: 'unload', args: [] });
      },
    }),
  };
}

/**
 * `inner` with its calls logged. Only the callbacks the plugin has are wrapped (their
 * presence changes the backend's defaults), plus close, whose absence changes nothing.
 */
export function probePlugin(inner: PluginDefinition, log: ProbeCall[], name = inner.name): PluginDefinition {
  return {
    ...inner,
    name,
    async create(params) {
      const instance = await inner.create(params);
      return {
        description: instance.description,
        async open(options) {
          log.push({ layer: name, call: 'open', args: [options] });
          const handle = await instance.open(options);
          return logged<PluginHandle>(name, { ...handle, close: () => handle.close?.() }, log);
        },
        async unload() {
          log.push({ layer: name, call: 'unload', args: [] });
          await instance.unload?.();
        },
      };
    },
  };
}
