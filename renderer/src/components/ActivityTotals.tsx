// Per-partition I/O totals for the info panel: bytes clients read, wrote, zeroed and trimmed
// in each partition and on the whole disk, over the overlay's window. Asked again whenever
// main says the image saw activity (at most four times a second) or the window changes.
import { useEffect, useState } from 'react';
import type { ActivityCounts, ActivityPartitions } from '../../../shared/ipc.ts';
import { formatBytes } from '../format/bytes.ts';
import { windowLabel } from '../map/activity-overlay.ts';
import { useApp } from '../store/store.ts';
import { transport } from '../transport/index.ts';

const COLUMNS: [keyof ActivityCounts, string][] = [['read', 'read'], ['written', 'written'], ['zeroed', 'zeroed'], ['trimmed', 'trimmed']];

function useActivityPartitions(imageId: string, windowSeconds: number | null): ActivityPartitions | null {
  const [totals, setTotals] = useState<ActivityPartitions | null>(null);
  useEffect(() => {
    let live = true;
    let asked = 0;
    const ask = () => {
      const ticket = ++asked;
      transport()
        .invoke('activity.partitions', { imageId, ...(windowSeconds === null ? {} : { windowSeconds }) })
        .then((t) => live && ticket === asked && setTotals(t))
        .catch(() => live && setTotals(null));
    };
    ask();
    const off = transport().on('activity.changed', (e) => e.imageId === imageId && ask());
    // A window forgets old seconds without any new request: look again while one is set.
    const timer = windowSeconds === null ? null : setInterval(ask, 1000);
    return () => {
      live = false;
      off();
      if (timer) clearInterval(timer);
    };
  }, [imageId, windowSeconds]);
  return totals;
}

const cell = (n: number) => (n === 0 ? '–' : formatBytes(n));

export function ActivityTotals({ imageId }: { imageId: string }) {
  const windowSeconds = useApp((s) => s.activity.windowSeconds);
  const totals = useActivityPartitions(imageId, windowSeconds);
  if (!totals) return null;
  const rows: [string, string, ActivityCounts][] = [
    ...totals.partitions.map((p): [string, string, ActivityCounts] => [String(p.number), p.name ? `${p.number} ${p.name}` : `partition ${p.number}`, p]),
    ['disk', 'whole disk', totals.disk],
  ];
  return (
    <div className="activity-totals" data-testid="activity-totals">
      <h3>I/O activity{windowSeconds === null ? '' : ` (last ${windowLabel(windowSeconds)})`}</h3>
      <table className="grid mono">
        <thead>
          <tr>
            <th />
            {COLUMNS.map(([, label]) => (
              <th key={label}>{label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(([key, label, c]) => (
            <tr key={key} data-testid={`activity-row-${key}`}>
              <td>{label}</td>
              {COLUMNS.map(([k]) => (
                <td key={k} data-bytes={c[k]}>
                  {cell(c[k])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
