// Waiting for a client's next request by polling its socket for a moment before the event
// loop sleeps (qemu's event loop polls the same way). With one request in flight a client
// sends the next one a few microseconds after our reply; sleeping in epoll until then costs a
// context switch and a wake-up per request, which at queue depth 1 was most of the gap to
// nbdkit (perf stat: 1.0 context switches per BLOCK_STATUS request, 0.04 with polling).
//
// The budget adapts to the client: it is the longest it is worth polling, MAX_POLL_NS while
// requests come back within it, halved each time one took longer, and 0 (no polling) once
// that happens repeatedly, until a quick request shows the client is fast again. A slow client
// so costs at most about 2 x MAX_POLL_NS of spinning before the polling stops.
import { nativeIo } from '../native-io.ts';

/** The longest one poll may spin. */
export const MAX_POLL_NS = 50_000;
/** Below this the budget is not worth a poll. */
const MIN_POLL_NS = 2_000;

/** Spins until `fd` is readable or `ns` have passed: 1 readable, 0 not, -errno on failure. */
export type AwaitReadable = (fd: number, ns: number) => number;

/** False when BLOCKSCOPE_IDLE_POLL=0: no connection polls (nor the connection loop spins). */
export function idlePollEnabled(): boolean {
  return process.env.BLOCKSCOPE_IDLE_POLL !== '0';
}

/** The addon's poll, unless BLOCKSCOPE_IDLE_POLL=0 or the addon lacks it (no polling then). */
export function awaitReadableFor(): AwaitReadable | null {
  if (!idlePollEnabled()) return null;
  return (nativeIo() as { awaitReadable?: AwaitReadable } | null)?.awaitReadable ?? null;
}

export class IdlePoll {
  private budget = MAX_POLL_NS;
  /** When the connection last went idle, while no byte has arrived since; else -1. */
  private idleSince = -1;
  private readonly awaitReadable: AwaitReadable;
  private readonly now: () => number;

  /** `now` in milliseconds (performance.now), replaceable for tests. */
  constructor(awaitReadable: AwaitReadable, now: () => number = () => performance.now()) {
    this.awaitReadable = awaitReadable;
    this.now = now;
  }

  /** The connection has answered everything and waits for the client on `fd`. */
  idle(fd: number): void {
    this.idleSince = this.now();
    if (this.budget <= 0) return;
    // A failing fd (a socket being torn down) ends polling on this connection for good.
    if (this.awaitReadable(fd, this.budget) < 0) this.budget = -1;
  }

  /** Bytes came from the client: how long it took says whether polling pays. */
  arrived(): void {
    if (this.idleSince < 0) return;
    const waitedNs = (this.now() - this.idleSince) * 1e6;
    this.idleSince = -1;
    if (this.budget < 0) return;
    if (waitedNs <= MAX_POLL_NS) this.budget = MAX_POLL_NS;
    else this.budget = this.budget / 2 >= MIN_POLL_NS ? this.budget / 2 : 0;
  }

  /** The current budget in nanoseconds (0: not polling). */
  get budgetNs(): number {
    return Math.max(0, this.budget);
  }
}
