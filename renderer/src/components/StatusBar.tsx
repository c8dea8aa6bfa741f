// Connection, scan progress of the active image, and the shortcut hints.
import type { ConnectionState } from '../transport/transport.ts';
import { formatPercent } from '../format/bytes.ts';
import { selectActive, useApp } from '../store/store.ts';

export function StatusBar({ connection, host }: { connection: ConnectionState; host: string }) {
  const image = useApp(selectActive);
  const clients = useApp((s) => s.clients.length);
  const scan = image?.scan;
  return (
    <footer className="statusbar">
      <span style={{ color: connection === 'open' ? 'var(--good)' : 'var(--warn)' }}>
        ● {connection === 'open' ? `connected (${host})` : connection}
      </span>
      {scan && (
        <span data-testid="scan-status" style={{ display: 'flex', alignItems: 'center', gap: 8 }}>
          {scan.error ? (
            <span style={{ color: 'var(--bad)' }}>scan stopped: {scan.error}</span>
          ) : scan.complete ? (
            'map complete'
          ) : (
            <>
              scanning {formatPercent(scan.done, scan.total)}
              <span className="progress">
                <span style={{ width: `${(scan.done / Math.max(1, scan.total)) * 100}%` }} />
              </span>
            </>
          )}
        </span>
      )}
      <span>{clients} client{clients === 1 ? '' : 's'}</span>
      <span className="spacer" />
      <span>
        <kbd>wheel</kbd> zoom <kbd>drag</kbd> pan <kbd>+</kbd>/<kbd>−</kbd>/<kbd>0</kbd> zoom <kbd>Ctrl</kbd>+<kbd>O</kbd> open <kbd>Ctrl</kbd>+<kbd>↵</kbd> serve
      </span>
    </footer>
  );
}
