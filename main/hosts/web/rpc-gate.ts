// Backpressure for one page's WebSocket. A call counts against its page from the moment it
// is read until its reply has been handed to the kernel, so what we hold for a page is a few
// dozen replies plus a bounded backlog of events, whatever the page sends. While calls wait
// for room we stop reading the page's socket: its own TCP window then stops it, and the
// calls already read (one socket read's worth) wait in a short queue.

/** What the gate needs of a `ws` WebSocket; tests can hand it a fake. */
export interface GateSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(text: string, flushed: (err?: Error) => void): void;
  pause(): void;
  resume(): void;
  close(code: number, reason: string): void;
}

export interface GateLimits {
  /** Calls answered at once, each from being read until its reply is flushed. */
  maxInFlight: number;
  /** No new call starts while this much output waits for the page. */
  highWaterBytes: number;
  /** Calls read while the socket was paused; more can only come from a broken or hostile page. */
  maxWaiting: number;
  /** Droppable events are skipped while this much output waits. */
  congestedBytes: number;
  /** A page this far behind on events it must not miss is cut off rather than buffered for. */
  cutOffBytes: number;
}

export const DEFAULT_GATE_LIMITS: GateLimits = {
  maxInFlight: 32,
  highWaterBytes: 16 * 2 ** 20,
  maxWaiting: 4096,
  congestedBytes: 4 * 2 ** 20,
  cutOffBytes: 64 * 2 ** 20,
};

/** WebSocket.OPEN, the same number in every implementation. */
const OPEN = 1;
/** Close code 1008 (policy violation) is what RFC 6455 offers for "you sent too much". */
const POLICY_VIOLATION = 1008;

export class RpcGate {
  private inFlight = 0;
  private waiting: (() => Promise<string>)[] = [];
  private paused = false;
  private closed = false;

  constructor(
    private readonly socket: GateSocket,
    private readonly onError: (err: unknown) => void,
    private readonly limits: GateLimits = DEFAULT_GATE_LIMITS,
  ) {}

  /** Calls read from the page whose replies have not yet been handed to the kernel. */
  get pendingCalls(): number {
    return this.inFlight + this.waiting.length;
  }

  /** Answer one call when there is room; `answer` produces the reply's text. */
  submit(answer: () => Promise<string>): void {
    if (!this.open) return;
    if (this.waiting.length >= this.limits.maxWaiting) return this.cutOff('too many requests');
    this.waiting.push(answer);
    this.pump();
  }

  /** Push an event; a droppable one is skipped while the page is behind. */
  notify(text: string, droppable: boolean): void {
    if (!this.open) return;
    const behind = this.socket.bufferedAmount;
    if (behind > this.limits.cutOffBytes) return this.cutOff('not reading');
    if (droppable && behind > this.limits.congestedBytes) return;
    this.socket.send(text, () => this.pump());
  }

  /** The socket is closing: nothing that waits will be answered. */
  shut(): void {
    this.closed = true;
    this.waiting = [];
  }

  /** Closing or closed: ws would refuse a send, and count its bytes as buffered all the same. */
  private get open(): boolean {
    return !this.closed && this.socket.readyState === OPEN;
  }

  private cutOff(reason: string): void {
    this.shut();
    this.socket.close(POLICY_VIOLATION, reason);
  }

  private hasRoom(): boolean {
    return this.inFlight < this.limits.maxInFlight && this.socket.bufferedAmount < this.limits.highWaterBytes;
  }

  private pump(): void {
    if (!this.open) return;
    while (this.waiting.length > 0 && this.hasRoom()) this.start(this.waiting.shift()!);
    this.setPaused(this.waiting.length > 0);
  }

  private start(answer: () => Promise<string>): void {
    this.inFlight++;
    const finish = () => {
      this.inFlight--;
      this.pump();
    };
    answer().then(
      (text) => (this.open ? this.socket.send(text, finish) : finish()),
      (err: unknown) => {
        this.onError(err);
        finish();
      },
    );
  }

  private setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    if (paused) this.socket.pause();
    else this.socket.resume();
  }
}
