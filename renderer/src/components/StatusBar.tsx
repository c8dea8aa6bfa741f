// Connection, scan progress of the active image, and the shortcut hints (keys from the command
// table in shared/commands.ts, the one the Electron menu shows).
import { Fragment } from 'react';
import { commandById, keyCaps, type CommandId } from '../../../shared/commands.ts';
import { isMac } from '../app/shortcuts.ts';
import { formatPercent } from '../format/bytes.ts';
import { selectActiveId, selectScan } from '../store/selectors.ts';
import { useApp } from '../store/store.ts';
import type { ConnectionState } from '../transport/transport.ts';

/** The hints: commands whose keys are shown together, and what they do. */
const HINTS: { commands: CommandId[]; what: string }[] = [
  { commands: ['zoom-in', 'zoom-out', 'zoom-reset'], what: 'zoom' },
  { commands: ['open'], what: 'open' },
  { commands: ['serve'], what: 'serve' },
];

export function StatusBar({ connection, host }: { connection: ConnectionState; host: string }) {
  const clients = useApp((s) => s.clients.length);
  return (
    <footer className="statusbar">
      <span style={{ color: connection === 'open' ? 'var(--good)' : 'var(--warn)' }}>
        ● {connection === 'open' ? `connected (${host})` : connection}
      </span>
      <ScanStatus />
      <span>{clients} client{clients === 1 ? '' : 's'}</span>
      <span className="spacer" />
      <span>
        <kbd>wheel</kbd> zoom <kbd>drag</kbd> pan <ShortcutHints />
      </span>
    </footer>
  );
}

/** The active image's scan: re-rendered by scan progress, as the map's pill is. */
function ScanStatus() {
  const scan = useApp((s) => {
    const id = selectActiveId(s);
    return id === null ? undefined : selectScan(s, id);
  });
  if (!scan) return null;
  return (
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
  );
}

/** "+/−/0 zoom Ctrl+O open Ctrl+↵ serve", each key cap in a kbd. */
function ShortcutHints() {
  const mac = isMac();
  return HINTS.map(({ commands, what }, h) => (
    <Fragment key={what}>
      {h > 0 && ' '}
      {commands.map((id, k) => (
        <Fragment key={id}>
          {k > 0 && '/'}
          <KeyCaps caps={keyCaps(commandById(id).keys[0]!, mac)} />
        </Fragment>
      ))}{' '}
      {what}
    </Fragment>
  ));
}

function KeyCaps({ caps }: { caps: string[] }) {
  return caps.map((cap, k) => (
    <Fragment key={k}>
      {k > 0 && '+'}
      <kbd>{cap}</kbd>
    </Fragment>
  ));
}
