// Activity recording for a server run without a session (`blockscope serve`): every request
// of one export is counted, and the record is written out when the server stops with
// `--activity FILE` (CSV for *.csv, else nbdkit's extent list). Recording is on whenever the
// engine serves, so `npm run bench` measures its cost; BLOCKSCOPE_ACTIVITY=0 switches it off.
import { writeFile } from 'node:fs/promises';
import type { EventEmitter } from 'node:events';
import type { ActivityExportFormat } from '../../shared/ipc.ts';
import type { Chain } from '../backend/chain.ts';
import type { RequestEvent } from '../nbd/request-event.ts';
import { ActivityRecorder, activityEnabled } from './activity-recorder.ts';

/** The export format a file name asks for. */
export function activityFormatOf(file: string): ActivityExportFormat {
  return file.toLowerCase().endsWith('.csv') ? 'csv' : 'extentlist';
}

export interface ServerActivity {
  readonly recorder: ActivityRecorder;
  /** Writes the record to `file` (nothing without one). */
  save(): Promise<void>;
}

const KEY = 'export';

/**
 * Records the requests `server` reports for `exportName` of `chain`; null when recording is
 * switched off and no file asks for it.
 */
export async function recordServerActivity(
  server: Pick<EventEmitter, 'on'>,
  chain: Pick<Chain, 'open'>,
  options: { exportName: string; title: string; file?: string; env?: NodeJS.ProcessEnv },
): Promise<ServerActivity | null> {
  if (!activityEnabled(options.env) && options.file === undefined) return null;
  // The buckets are cut for the disk's size, which only an open chain knows.
  const probe = await chain.open({ readonly: true, exportName: options.exportName });
  const size = probe.top.getSize();
  await probe.close();
  const recorder = new ActivityRecorder({ geometry: () => ({ size, title: options.title, partitions: [] }) });
  server.on('request', (ev: RequestEvent) => {
    if (ev.exportName === options.exportName) recorder.record(KEY, ev);
  });
  return {
    recorder,
    save: async () => {
      if (options.file === undefined) return;
      await writeFile(options.file, recorder.export(KEY, activityFormatOf(options.file)).text);
    },
  };
}
