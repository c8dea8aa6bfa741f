// exitwhen: stop the server gracefully when something outside happens (nbdkit-exitwhen-
// filter): a file appears or goes, a process ends, a script says so. Once it has happened,
// new clients are refused and the server exits when the last current one leaves. Events are
// checked as clients come and go, and every exit-when-poll while no client is connected.
import { BlockError } from '../../backend/errors.ts';
import { defineFilter } from '../../backend/types.ts';
import { eventsOf, firstHappened, type ExitEvent } from './events.ts';

export const exitwhenFilter = defineFilter({
  name: 'exitwhen',
  summary: 'exit when a file is created or deleted, a process exits or a script says so',
  cliOnly: true,
  params: [
    { key: 'exit-when-file-created', kind: 'path', repeat: true, description: 'exit once this file exists (repeatable)' },
    { key: 'exit-when-file-deleted', kind: 'path', repeat: true, description: 'exit once this file no longer exists (repeatable)' },
    { key: 'exit-when-process-exits', kind: 'string', repeat: true, description: 'exit once the process with this ID has exited (repeatable)' },
    { key: 'exit-when-script', kind: 'string', repeat: true, description: 'exit once this shell command exits with status 88 (0: not yet; repeatable)' },
    { key: 'exit-when-poll', kind: 'duration', min: 1, default: '60', description: 'how often to check while no client is connected (seconds, or 500ms)' },
  ],
  create(params) {
    const log = (line: string) => console.error(`blockscope: ${line}`);
    const watcher = new ExitWatcher(eventsOf(params, log), params['exit-when-poll']);
    return {
      preconnect: () => watcher.admit(),
      watchServer: (exit) => watcher.start(exit),
      open: () => ({}),
    };
  },
});

/** The filter's state for one server: connected clients, whether an event has happened. */
class ExitWatcher {
  private clients = 0;
  private happened: ExitEvent | null = null;
  private exit: ((reason: string) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly events: readonly ExitEvent[];
  private readonly pollMs: number;

  constructor(events: readonly ExitEvent[], pollMs: number) {
    this.events = events;
    this.pollMs = pollMs;
  }

  /** preconnect: refuse once an event has happened, else count the client until it leaves. */
  async admit(): Promise<() => void> {
    if (await this.check()) throw new BlockError('EACCES', `${this.happened!.what}: the server is exiting`);
    this.clients++;
    this.stopPolling();
    return () => {
      this.clients--;
      void this.check().then(() => this.settle());
    };
  }

  start(exit: (reason: string) => void): () => void {
    this.exit = exit;
    void this.check().then(() => this.settle());
    return () => {
      this.exit = null;
      this.stopPolling();
    };
  }

  private async check(): Promise<boolean> {
    this.happened ??= await firstHappened(this.events);
    return this.happened !== null;
  }

  /** With no clients left: exit if an event has happened, else keep polling. */
  private settle(): void {
    if (this.clients > 0 || !this.exit) return;
    if (this.happened) this.exit(this.happened.what);
    else this.poll();
  }

  private poll(): void {
    if (this.events.length === 0 || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.check().then(() => this.settle());
    }, this.pollMs);
  }

  private stopPolling(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
