// Serving open images over NBD: the session's one server, opened with the first export and
// closed after the last; when it moves (endpoint.ts says where and how it listens);
// which image is which export; the stats sampled from its request events; its client list.
import type { EventEmitter } from 'node:events';
import { type ClientInfo, type ExportCapabilities, type ExportState, type IpcEventSink, type ServerStatus, type TlsServeSettings } from '../../shared/ipc.ts';
import { exportUri, type NbdServer } from '../nbd/server.ts';
import { exposureWarning, type TlsServerConfig } from '../nbd/tls-credentials.ts';
import { endpointMoved, listenAt, wantedEndpoint, type Endpoint } from './endpoint.ts';
import { ServiceError } from './errors.ts';
import { exportCapabilities } from './export-capabilities.ts';
import type { ImageChain } from './image-chain.ts';
import { StatsSampler, type RequestEvent } from './stats.ts';
import { describeTls, serverTlsConfig } from './tls-setup.ts';
import { writeRefusal, type WriteRefusal } from './write-access.ts';

/** The part of the NBD server that serving uses: its own methods, and its events (connect, disconnect, request). */
export type ServerPort = Pick<NbdServer, 'addExport' | 'updateExport' | 'removeExport' | 'listen' | 'close' | 'connections' | 'disconnect'> & Pick<EventEmitter, 'on'>;

/** What serving needs of an open image. */
export interface Servable {
  readonly id: string;
  readonly title: string;
  /** raw, qcow2, ..., nbd: named when the format is why writes are refused. */
  readonly format: string;
  readonly chain: Pick<ImageChain, 'chain' | 'label'>;
  /** A client changed this range (write, trim, zero). */
  markDirty(offset: number, length: number): void;
}

export interface ServeOptions {
  host?: string;
  port?: number;
  exportName?: string;
  writable?: boolean;
  socketPath?: string;
  /** STARTTLS for the whole server: another setting than the running one restarts it. */
  tls?: TlsServeSettings;
}

export interface ServingDeps {
  createServer(options: { log: (line: string) => void; tls?: TlsServerConfig }): ServerPort;
  /** The open images, in the order they were opened (lists follow it). */
  images(): Iterable<Servable>;
  emit: IpcEventSink;
  statsIntervalMs?: number;
  /** Where each served image's request events are counted by place and time (activity-recorder.ts); absent: not recorded. */
  activity?: { record(imageId: string, ev: RequestEvent): void };
}

interface ExportSlot {
  name: string;
  /** What the user asked for. */
  writeRequested: boolean;
  /** Why the chain refuses the writes asked for; null when it takes them (or none were asked for). */
  refusal: WriteRefusal | null;
  /** What a new client is told the export can do; null when the chain could not be asked. */
  capabilities: ExportCapabilities | null;
}

/** A chain that cannot be opened has no answers to show; serving it still goes ahead. */
function capabilitiesOrNull(chain: ImageChain['chain'], writable: boolean): Promise<ExportCapabilities | null> {
  return exportCapabilities(chain, writable).catch(() => null);
}

const DIRTY_OPS = new Set(['write', 'trim', 'zero']);

export class Serving {
  private server: ServerPort | null = null;
  private endpoint: Endpoint | null = null;
  /** The running server's credentials, as loaded when it started. */
  private tlsConfig: TlsServerConfig | undefined;
  private statsTimer: NodeJS.Timeout | null = null;
  private readonly stats = new StatsSampler();
  /** The export of each served image, by image id. */
  private readonly slots = new Map<string, ExportSlot>();
  /** The client list last sent, so counters are pushed when they move and not otherwise. */
  private clientsSent = '';

  constructor(private readonly deps: ServingDeps) {}

  isServed(imageId: string): boolean {
    return this.slots.has(imageId);
  }

  /** Serve `img`, or serve it again under another name or mode; starts or moves the server as `options` ask. */
  async serve(img: Servable, options: ServeOptions): Promise<void> {
    const writable = options.writable ?? false;
    const chain = img.chain.chain;
    // Asked before the server starts: an image that cannot be opened for writing fails here.
    const refusal = writable ? await writeRefusal(chain, img.format).catch((err: unknown) => {
      throw new ServiceError('failed', `cannot serve ${img.title} writable: ${(err as Error).message}`);
    }) : null;
    const server = await this.listen(options);
    const current = this.slots.get(img.id);
    const name = options.exportName ?? current?.name ?? this.freeExportName(img);
    const taken = this.served().find(([other, slot]) => other.id !== img.id && slot.name === name);
    if (taken) throw new ServiceError('invalid-input', `the export name '${name}' is already used by ${taken[0].title}`);
    if (current && current.name !== name) server.removeExport(current.name);
    if (current?.name === name) server.updateExport(name, { writable, chain, chainLabel: img.chain.label });
    else server.addExport({ name, description: img.title, chain, writable, chainLabel: img.chain.label });
    const capabilities = await capabilitiesOrNull(chain, writable && refusal === null);
    this.slots.set(img.id, { name, writeRequested: writable, refusal, capabilities });
    this.log(`serving ${img.title} as '${name}' (${modeWords(this.slots.get(img.id)!)}): ${this.exportState(img.id)!.uri}`);
  }

  /** Stop serving `images`; the server closes when nothing is left to serve. */
  async stop(images: Iterable<Servable>): Promise<void> {
    for (const img of images) {
      const slot = this.slots.get(img.id);
      if (!slot) continue;
      this.server?.removeExport(slot.name);
      this.stats.forget(img.id);
      this.slots.delete(img.id);
    }
    if (this.served().length === 0) await this.close();
  }

  /** New connections to `img`'s export get its current chain (open ones keep theirs); cow may have made it writable. */
  async chainChanged(img: Servable): Promise<void> {
    const slot = this.slots.get(img.id);
    if (!slot) return;
    this.server?.updateExport(slot.name, { chain: img.chain.chain, chainLabel: img.chain.label });
    if (!slot.writeRequested) {
      slot.capabilities = await capabilitiesOrNull(img.chain.chain, false);
      return;
    }
    // The chain is in place already: a chain that cannot be opened for writing is reported, not thrown.
    const refusal = await writeRefusal(img.chain.chain, img.format).catch((err: unknown) => ({
      reason: `it cannot be opened for writing: ${(err as Error).message}`,
      cowHelps: false,
    }));
    if (this.slots.get(img.id) !== slot) return;
    slot.capabilities = await capabilitiesOrNull(img.chain.chain, refusal === null);
    if (refusal?.reason === slot.refusal?.reason) return;
    slot.refusal = refusal;
    this.log(`${img.title} is now ${modeWords(slot)} for new connections`);
  }

  exportState(imageId: string): ExportState | undefined {
    const slot = this.slots.get(imageId);
    const at = this.endpoint;
    if (!slot || !at) return undefined;
    return {
      exportName: slot.name,
      writable: slot.writeRequested && slot.refusal === null,
      ...(slot.refusal === null ? {} : { readOnlyReason: slot.refusal.reason, offerCow: slot.refusal.cowHelps }),
      uri: exportUri({ host: at.host, port: at.port }, slot.name),
      unixUri: at.socketPath ? exportUri({ path: at.socketPath }, slot.name) : undefined,
      ...(slot.capabilities ? { capabilities: slot.capabilities } : {}),
      ...(at.tls.mode === 'off' ? {} : { tls: at.tls.mode }),
    };
  }

  status(): ServerStatus {
    const at = this.endpoint;
    const exports = this.served().flatMap(([img]) => {
      const e = this.exportState(img.id);
      return e ? [{ ...e, imageId: img.id }] : [];
    });
    if (!at) return { running: false, exports };
    // The URI of the export with the empty name, less its '/'.
    const baseUri = exportUri({ host: at.host, port: at.port }, '').slice(0, -1);
    const warning = exposureWarning(at.host, at.tls.mode);
    const tls = describeTls(at.tls, this.tlsConfig);
    return { running: true, host: at.host, port: at.port, socketPath: at.socketPath, baseUri, exports, tls, ...(warning ? { exposureWarning: warning } : {}) };
  }

  clients(): ClientInfo[] {
    return (this.server?.connections ?? []).map((c) => ({
      id: c.id,
      remote: c.remote,
      exportName: c.exportName,
      imageId: this.imageServedAs(c.exportName)?.id ?? null,
      chainLabel: c.chainLabel,
      since: c.since,
      requests: c.requests,
      bytesRead: c.bytesRead,
      bytesWritten: c.bytesWritten,
      ...(c.tls ? { tls: c.tls } : {}),
    }));
  }

  /** Drop one client; the others keep their connections. The list goes out with the server's disconnect event. */
  async disconnect(clientId: number): Promise<ClientInfo[]> {
    const client = this.clients().find((c) => c.id === clientId);
    if (!client || !(await this.server!.disconnect(clientId))) {
      throw new ServiceError('not-found', `no connected client with id ${clientId} (it has disconnected already)`);
    }
    this.log(`disconnected client ${clientId} (${client.remote})`);
    return this.clients();
  }

  /** Stop listening and drop every export and connection. */
  async close(): Promise<void> {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    const server = this.server;
    this.server = null;
    this.endpoint = null;
    this.slots.clear();
    await server?.close();
  }

  /** The served images with their exports, in the order the images were opened. */
  private served(): [Servable, ExportSlot][] {
    return [...this.deps.images()].flatMap((img): [Servable, ExportSlot][] => {
      const slot = this.slots.get(img.id);
      return slot ? [[img, slot]] : [];
    });
  }

  private imageServedAs(exportName: string): Servable | undefined {
    return this.served().find(([, slot]) => slot.name === exportName)?.[0];
  }

  /** The empty name (what clients get by default) unless another image has it. */
  private freeExportName(img: Servable): string {
    return this.served().some(([, slot]) => slot.name === '') ? img.title : '';
  }

  /** The server, listening where `options` ask: it moves when they name another place. */
  private async listen(options: ServeOptions): Promise<ServerPort> {
    const at = this.endpoint;
    const wanted = wantedEndpoint(options, at);
    const moved = at !== null && endpointMoved(at, wanted, options.port);
    // Read before the running server goes: a missing or mismatched file leaves it serving.
    const tls = moved || !at ? serverTlsConfig(wanted.tls) : this.tlsConfig;
    if (moved) await this.close();
    return this.server ?? this.open(wanted, options.port === undefined, tls);
  }

  private async open(at: Endpoint, portWasDefault: boolean, tls: TlsServerConfig | undefined): Promise<ServerPort> {
    const server = this.deps.createServer({ log: (line) => this.log(line), tls });
    server.on('request', (ev: RequestEvent) => this.onRequest(ev));
    server.on('connect', () => this.sendClients(true));
    server.on('disconnect', () => this.sendClients(true));
    const port = await listenAt(server, at, portWasDefault, (line) => this.log(line));
    this.server = server;
    this.endpoint = { ...at, port };
    this.tlsConfig = tls;
    this.statsTimer = setInterval(() => this.sampleStats(), this.deps.statsIntervalMs ?? 250);
    this.statsTimer.unref();
    return server;
  }

  private onRequest(ev: RequestEvent): void {
    const img = this.imageServedAs(ev.exportName);
    if (!img) return;
    this.stats.record(img.id, ev);
    this.deps.activity?.record(img.id, ev);
    if (!ev.error && DIRTY_OPS.has(ev.op)) img.markDirty(ev.offset, ev.length);
  }

  /** The client list, when it changed since the last one sent (or always, on connect and disconnect). */
  private sendClients(always: boolean): void {
    const clients = this.clients();
    const text = JSON.stringify(clients);
    if (!always && text === this.clientsSent) return;
    this.clientsSent = text;
    this.deps.emit('server.clients', clients);
  }

  private sampleStats(): void {
    // The clients table's counters move with every request: one list, sent with the samples.
    this.sendClients(false);
    const connections = this.server?.connections ?? [];
    for (const [img, slot] of this.served()) {
      const mine = connections.filter((c) => c.exportName === slot.name);
      this.deps.emit('stats.sample', this.stats.sample(img.id, mine));
    }
  }

  private log(line: string): void {
    this.deps.emit('server.log', { t: Date.now(), line });
  }
}

function modeWords(slot: ExportSlot): string {
  if (!slot.writeRequested) return 'read-only';
  return slot.refusal === null ? 'writable' : `read-only: ${slot.refusal.reason}`;
}
