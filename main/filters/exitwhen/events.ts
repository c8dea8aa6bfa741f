// The events exitwhen watches for, each a question asked again on every check: has the file
// appeared or gone, has the process ended, does the script say so (exit status 88).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { repeatedValues } from '../../../shared/params.ts';

export interface ExitEvent {
  /** What happened, for the log line when the server exits. */
  readonly what: string;
  happened(): Promise<boolean>;
}

/** nbdkit's status for "the event has happened"; 0 is "not yet", anything else an error. */
const SCRIPT_EVENT = 88;

export interface EventParams {
  'exit-when-file-created'?: string;
  'exit-when-file-deleted'?: string;
  'exit-when-process-exits'?: string;
  'exit-when-script'?: string;
}

/** Every event the parameters name (each key may be given several times). */
export function eventsOf(params: EventParams, log: (line: string) => void): ExitEvent[] {
  const each = (text: string | undefined) => (text === undefined ? [] : repeatedValues(text));
  return [
    ...each(params['exit-when-file-created']).map((file) => ({ what: `${file} was created`, happened: async () => existsSync(file) })),
    ...each(params['exit-when-file-deleted']).map((file) => ({ what: `${file} was deleted`, happened: async () => !existsSync(file) })),
    ...each(params['exit-when-process-exits']).map((text) => processExits(text)),
    ...each(params['exit-when-script']).map((script) => scriptSays(script, log)),
  ];
}

function processExits(text: string): ExitEvent {
  const pid = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(pid) || pid <= 0) {
    throw new Error(`exitwhen: exit-when-process-exits: '${text}' is not a process ID`);
  }
  return {
    what: `process ${pid} exited`,
    // Signal 0 only asks whether the process exists; EPERM means it does (another user's).
    happened: async () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ESRCH';
      }
    },
  };
}

function scriptSays(script: string, log: (line: string) => void): ExitEvent {
  return {
    what: `exit-when-script '${script}' exited with ${SCRIPT_EVENT}`,
    happened: () => new Promise<boolean>((resolve) => {
      execFile('/bin/sh', ['-c', script], (err, _stdout, stderr) => {
        const status = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (status !== 0 && status !== SCRIPT_EVENT) {
          log(`exitwhen: exit-when-script '${script}' failed (status ${status})${stderr ? `: ${stderr.trim()}` : ''}`);
        }
        resolve(status === SCRIPT_EVENT);
      });
    }),
  };
}

/** The first event that has happened, or null; all are asked, in order. */
export async function firstHappened(events: readonly ExitEvent[]): Promise<ExitEvent | null> {
  for (const e of events) if (await e.happened()) return e;
  return null;
}
