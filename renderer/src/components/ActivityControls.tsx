// The heat overlay's controls under the map: what it shows (allocation, reads, writes or
// both), how far back it looks, Clear and Export, and the ramp's legend. The pixels are drawn
// by the map's renderer (map/activity-overlay.ts).
import type { ActivityExportFormat } from '../../../shared/ipc.ts';
import { saveExport } from '../app/download.ts';
import { ACTIVITY_MODES, ACTIVITY_WINDOWS, heatGradientCss, windowLabel, type ActivityMode } from '../map/activity-overlay.ts';
import { useApp } from '../store/store.ts';
import { transport } from '../transport/index.ts';
import { ActionMenu } from './ActionMenu.tsx';

const ACTIVITY_EXPORTS = [
  ['csv', 'CSV'],
  ['extentlist', 'Extent list (nbdkit extentlist)'],
] as const satisfies readonly (readonly [ActivityExportFormat, string])[];

const MODE_LABELS: Record<ActivityMode, string> = { allocation: 'Allocation', reads: 'Reads', writes: 'Writes', both: 'Both' };

async function run(what: string, f: () => Promise<unknown>): Promise<void> {
  const app = useApp.getState();
  try {
    await f();
    app.clearError('activity');
  } catch (e) {
    app.setError(`${what}: ${(e as Error).message}`, 'activity');
  }
}

export function exportActivity(imageId: string, format: ActivityExportFormat, windowSeconds: number | null) {
  return run('Exporting the activity', async () => {
    const out = await transport().invoke('activity.export', { imageId, format, ...(windowSeconds === null ? {} : { windowSeconds }) });
    await saveExport({ name: out.fileName, blob: new Blob([out.text], { type: out.mimeType }), text: out.text }, transport());
  });
}

export function ActivityControls({ imageId }: { imageId: string }) {
  const { mode, windowSeconds } = useApp((s) => s.activity);
  const setActivity = useApp((s) => s.setActivity);
  return (
    <div className="activity-bar" data-testid="activity-controls">
      <span className="seg" role="radiogroup" aria-label="Map shows">
        {ACTIVITY_MODES.map((m) => (
          <button
            key={m}
            role="radio"
            aria-checked={mode === m}
            className={`btn small${mode === m ? ' on' : ''}`}
            data-testid={`activity-mode-${m}`}
            onClick={() => setActivity({ mode: m })}
          >
            {MODE_LABELS[m]}
          </button>
        ))}
      </span>
      <label className="faint">
        last{' '}
        <select
          className="btn small"
          aria-label="Activity window"
          data-testid="activity-window"
          value={windowSeconds === null ? 'all' : String(windowSeconds)}
          onChange={(e) => setActivity({ windowSeconds: e.target.value === 'all' ? null : Number(e.target.value) })}
        >
          {ACTIVITY_WINDOWS.map((w) => (
            <option key={String(w)} value={w === null ? 'all' : String(w)}>
              {windowLabel(w)}
            </option>
          ))}
        </select>
      </label>
      <button className="btn small" data-testid="activity-clear" onClick={() => void run('Clearing the activity', () => transport().invoke('activity.clear', { imageId }))}>
        Clear
      </button>
      <ActionMenu
        label="Export activity"
        placeholder="Export activity…"
        testId="activity-export"
        entries={ACTIVITY_EXPORTS}
        onChoose={(format) => void exportActivity(imageId, format, windowSeconds)}
      />
      {mode !== 'allocation' && <HeatLegend />}
    </div>
  );
}

function HeatLegend() {
  return (
    <span className="heat-legend" data-testid="activity-legend" title="Bytes per bin on a log scale; quiet bins are dimmed">
      <span className="faint">less</span>
      <span className="heat-ramp" style={{ background: heatGradientCss() }} />
      <span className="faint">more</span>
    </span>
  );
}
