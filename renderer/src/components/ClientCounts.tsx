// A client's running totals as table cells: the serving panel and the stats show the same
// counters from the same client list, so they are drawn by one component.
import type { ClientInfo } from '../../../shared/ipc.ts';
import { formatBytes } from '../format/bytes.ts';

export function ClientCountHeads() {
  return (
    <>
      <th className="num">Reqs</th>
      <th className="num">Read</th>
      <th className="num">Written</th>
    </>
  );
}

export function ClientCountCells({ client, requestsTestId }: { client: ClientInfo; requestsTestId?: string }) {
  return (
    <>
      <td className="num" data-testid={requestsTestId}>{client.requests}</td>
      <td className="num">{formatBytes(client.bytesRead)}</td>
      <td className="num">{formatBytes(client.bytesWritten)}</td>
    </>
  );
}
