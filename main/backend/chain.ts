// A chain: one plugin instance and its filter instances, in command-line order (the first
// filter is outermost and sees client requests first). Instances belong to an export and
// outlive connections; `open` builds one LayerContext per layer for a connection.
import { LayerContext } from './context.ts';
import { BlockError, messageOf } from './errors.ts';
import type { FilterInstance, OpenOptions, PeerInfo, PluginInstance, Release, Reopen } from './types.ts';

export interface NamedPlugin {
  name: string;
  instance: PluginInstance;
}

export interface NamedFilter {
  name: string;
  instance: FilterInstance;
}

/** A filter's preconnect said no: the connection closes before the handshake. */
export class ConnectionRefused extends Error {
  readonly filter: string;
  readonly reason: string;
  constructor(filter: string, reason: string) {
    super(`refused by the ${filter} filter: ${reason}`);
    this.name = 'ConnectionRefused';
    this.filter = filter;
    this.reason = reason;
  }
}

/** An open chain for one connection: `top` is what the client talks to. */
export interface OpenChain {
  top: LayerContext;
  close(): Promise<void>;
}

export class Chain {
  readonly plugin: NamedPlugin;
  readonly filters: readonly NamedFilter[];

  constructor(plugin: NamedPlugin, filters: readonly NamedFilter[]) {
    this.plugin = plugin;
    this.filters = filters;
  }

  /** Layer names from the outermost filter down to the plugin. */
  get layerNames(): string[] {
    return [...this.filters.map((f) => f.name), this.plugin.name];
  }

  /** True when some filter looks at connections before the handshake. */
  get screensPeers(): boolean {
    return this.filters.some((f) => f.instance.preconnect);
  }

  /**
   * Asks each filter's preconnect, outermost first (nbdkit's order), whether `peer` may
   * connect. Throws ConnectionRefused at the first refusal, releasing what the filters above
   * it took; any error counts as a refusal, so a broken hook fails closed.
   */
  async preconnect(peer: PeerInfo): Promise<Release> {
    const held: Release[] = [];
    const release = once(() => {
      for (const r of held.splice(0).reverse()) r();
    });
    for (const f of this.filters) {
      try {
        const r = await f.instance.preconnect?.(peer);
        if (r) held.push(r);
      } catch (err) {
        release();
        throw new ConnectionRefused(f.name, messageOf(err));
      }
    }
    return release;
  }

  /**
   * Lets filters that end the server (exitlast, exitwhen) tell it when: `exit` is called at
   * most once, with the reason. Returns what stops their watching.
   */
  watchServer(exit: (reason: string) => void): () => void {
    const tell = once(exit);
    const stops = this.filters.flatMap((f) => f.instance.watchServer?.((reason) => tell(`${f.name}: ${reason}`)) ?? []);
    return () => stops.forEach((stop) => stop());
  }

  async open(options: OpenOptions): Promise<OpenChain> {
    const opened: LayerContext[] = [];
    try {
      const top = await this.openFrom(0, options, opened, opened);
      top.markOutermost();
      return { top, close: () => closeAll(opened) };
    } catch (err) {
      await closeAll(opened).catch(() => {});
      throw err;
    }
  }

  /**
   * Open the plugin and filters[from..] for one connection, innermost first, pushing each
   * layer onto `into`. `all` is every open layer of the connection, innermost first, so that a
   * filter's reopen can swap out the layers below it (the ones before it in `all`).
   */
  private async openFrom(from: number, options: OpenOptions, into: LayerContext[], all: LayerContext[]): Promise<LayerContext> {
    // Read-only-ness flows down: a layer is read-only if the one above asked for it.
    const readonlyAt: boolean[] = [];
    let ro = options.readonly;
    for (const f of this.filters.slice(from)) {
      readonlyAt.push(ro);
      ro = ro || f.instance.readonlyBelow === true;
    }
    const handle = await this.plugin.instance.open({ ...options, readonly: ro });
    let ctx = new LayerContext(this.plugin.name, handle, null, ro);
    into.push(ctx);
    await ctx.prepare();
    for (let i = this.filters.length - 1; i >= from; i--) {
      const f = this.filters[i]!;
      const readonly = readonlyAt[i - from]!;
      let self: LayerContext | null = null;
      const reopen: Reopen = async (again) => {
        if (!self) throw new BlockError('EINVAL', `${f.name}: cannot reopen the layers below while opening`);
        // nbdkit's order: close the old layers, then open new ones.
        await closeAll(all.splice(0, all.indexOf(self))).catch(() => {});
        const fresh: LayerContext[] = [];
        try {
          const below = await this.openFrom(i + 1, { ...options, readonly: again.readonly }, fresh, all);
          all.unshift(...fresh);
          self.replaceBelow(below);
          return below;
        } catch (err) {
          await closeAll(fresh).catch(() => {});
          throw err;
        }
      };
      const fh = await f.instance.open(ctx, { ...options, readonly }, reopen);
      self = ctx = new LayerContext(f.name, fh, ctx, readonly);
      into.push(ctx);
      await ctx.prepare();
    }
    return ctx;
  }

  async unload(): Promise<void> {
    for (const f of this.filters) await f.instance.unload?.();
    await this.plugin.instance.unload?.();
  }
}

/** Close outermost first, as nbdkit does; every layer is closed even if one fails. */
async function closeAll(opened: LayerContext[]): Promise<void> {
  let first: unknown = null;
  for (let i = opened.length - 1; i >= 0; i--) {
    try {
      await opened[i]!.close();
    } catch (err) {
      first ??= err;
    }
  }
  if (first) throw first;
}

/** `fn`, made safe to call more than once (a socket can report its close twice). */
export function once<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  let done = false;
  return (...args) => {
    if (done) return;
    done = true;
    fn(...args);
  };
}

