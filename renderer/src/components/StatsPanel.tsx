// Live stats: four uPlot charts created once per image and updated in place with setData at
// most once per animation frame (Chart.tsx), plus per-client rates and counters. The counters
// come from the same client list as the serving panel's (selectClientsOf), so they agree.
import { useShallow } from 'zustand/react/shallow';
import { CHARTS } from '../stats/charts.ts';
import { selectClientOps, selectClientsOf } from '../store/selectors.ts';
import { useApp } from '../store/store.ts';
import { Chart } from './Chart.tsx';
import { ClientCountCells, ClientCountHeads } from './ClientCounts.tsx';

export function StatsPanel({ imageId }: { imageId: string }) {
  const clients = useApp(useShallow((s) => selectClientsOf(s, imageId)));
  return (
    <div className="section" aria-label="Statistics" data-testid="stats-panel">
      <h2>Live stats</h2>
      {CHARTS.map((spec) => (
        <Chart key={`${imageId}:${spec.id}`} imageId={imageId} spec={spec} />
      ))}
      <h2 style={{ marginTop: 10 }}>Per client</h2>
      {clients.length === 0 ? (
        <div className="faint">No client traffic yet.</div>
      ) : (
        <table className="grid" data-testid="client-stats">
          <thead>
            <tr>
              <th>Client</th>
              <th className="num">ops/s</th>
              <ClientCountHeads />
            </tr>
          </thead>
          <tbody>
            {clients.map((c) => (
              <tr key={c.id}>
                <td className="mono">{c.remote}</td>
                <td className="num">
                  <ClientOps imageId={imageId} clientId={c.id} />
                </td>
                <ClientCountCells client={c} requestsTestId="client-requests" />
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function ClientOps({ imageId, clientId }: { imageId: string; clientId: number }) {
  const ops = useApp((s) => selectClientOps(s, imageId, clientId));
  return <>{ops.toFixed(1)}</>;
}
