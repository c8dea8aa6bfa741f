// Serving: settings, one start/stop button, the URIs with copy buttons, connected clients (each
// with a button that disconnects it alone).
// What the panel says is what clients get: an export asked to be writable whose chain cannot
// write says it is read-only, why, and offers the fix (cow), as the CLI does.
import { useShallow } from 'zustand/react/shallow';
import type { ClientInfo, ExportState } from '../../../shared/ipc.ts';
import { disconnectClient, enableCow, startServing, stopServing } from '../app/actions.ts';
import { ClientCommands } from './ClientCommands.tsx';
import { ClientCountCells, ClientCountHeads } from './ClientCounts.tsx';
import { TlsSettings } from './TlsSettings.tsx';
import { ClientTlsNote, ExposureWarning } from './TlsNotes.tsx';
import { blockSizeLine, capabilityRows } from '../format/capabilities.ts';
import { selectClientsOf, selectExport, selectServeForm } from '../store/selectors.ts';
import { exportOf } from '../store/server-slice.ts';
import { useApp } from '../store/store.ts';

/** The state pill: what clients of the export can do. */
export function servingWords(running: ExportState | undefined): string {
  if (!running) return 'stopped';
  if (running.writable) return 'serving · writable';
  return running.readOnlyReason ? `serving · read-only (${running.readOnlyReason})` : 'serving · read-only';
}

export function ServePanel({ imageId }: { imageId: string }) {
  const running = useApp((s) => exportOf(s.status, imageId));
  const stale = useApp((s) => selectExport(s, imageId));
  const busy = useApp((s) => s.busy);
  const status = useApp((s) => s.status);
  const pskUser = useApp((s) => selectServeForm(s, imageId).pskUser);
  const served = running ?? stale;
  const state = (
    <span className={`pill${running ? ' live' : ''}${running?.readOnlyReason ? ' warn' : ''}`} data-testid="serve-state">
      {servingWords(running)}
    </span>
  );
  return (
    <div className="section" aria-label="Serving" data-testid="serve-panel">
      <h2>
        Serve over NBD
        {!running?.readOnlyReason && <span className="right">{state}</span>}
      </h2>
      {running?.readOnlyReason && (
        // The long form gets a row of its own, with the fix beside it when there is one.
        <div className="serve-note">
          {state}
          {running.offerCow && (
            <button className="btn small" disabled={busy} onClick={() => void enableCow(imageId)} data-testid="serve-add-cow">
              Add the cow filter
            </button>
          )}
        </div>
      )}
      <ServeSettingsForm imageId={imageId} disabled={!!running || busy} />
      <div style={{ display: 'flex', gap: 8, margin: '6px 0 10px' }}>
        {running ? (
          <button className="btn danger" disabled={busy} onClick={() => void stopServing(imageId)} data-testid="serve-stop">
            ■ Stop serving
          </button>
        ) : (
          <button className="btn primary" disabled={busy} onClick={() => void startServing(imageId)} data-testid="serve-start">
            ▶ Start serving
          </button>
        )}
      </div>
      {running && <ExposureWarning warning={status.exposureWarning} />}
      {running && served && <ServedUris served={served} />}
      {running && <ClientCommands status={status} exportName={running.exportName} pskUser={pskUser} />}
      {running?.capabilities && <Capabilities caps={running.capabilities} />}
      <Clients imageId={imageId} />
    </div>
  );
}

function ServeSettingsForm({ imageId, disabled }: { imageId: string; disabled: boolean }) {
  const settings = useApp(useShallow((s) => selectServeForm(s, imageId)));
  const editSettings = useApp((s) => s.editSettings);
  const edit = (patch: Parameters<typeof editSettings>[1]) => editSettings(imageId, patch);
  return (
    <fieldset disabled={disabled} style={{ border: 'none', padding: 0, margin: 0 }}>
      <div className="field">
        <label htmlFor="serve-host">Bind address</label>
        <input id="serve-host" className="input mono" value={settings.host} onChange={(e) => edit({ host: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor="serve-port">Port</label>
        <input id="serve-port" className="input mono" value={settings.port} placeholder="0 = any free port" onChange={(e) => edit({ port: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor="serve-export">Export name</label>
        <input id="serve-export" className="input mono" value={settings.exportName} placeholder="(default, or the image's name)" onChange={(e) => edit({ exportName: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor="serve-socket">Unix socket</label>
        <input id="serve-socket" className="input mono" value={settings.socketPath} placeholder="optional, e.g. /tmp/bs.sock" onChange={(e) => edit({ socketPath: e.target.value })} />
      </div>
      <TlsSettings imageId={imageId} settings={settings} edit={edit} />
      <div className="field">
        <span />
        <label className="check">
          <input type="checkbox" checked={settings.writable} onChange={(e) => edit({ writable: e.target.checked })} data-testid="serve-writable" />
          Writable (clients may change the image)
        </label>
      </div>
    </fieldset>
  );
}

function ServedUris({ served }: { served: ExportState }) {
  // Over TLS a client names the export nbds:// (libnbd's convention); nbd:// would not start TLS.
  const scheme = (uri: string) => (served.tls ? uri.replace(/^nbd(\+unix)?:/, 'nbds$1:') : uri);
  return (
    <>
      <Uri label="TCP" uri={scheme(served.uri)} testId="serve-uri" />
      {served.unixUri && <Uri label="Unix" uri={scheme(served.unixUri)} testId="serve-unix-uri" />}
      {/* Under require nbd:// is refused: the TLS commands below are the ones to try. */}
      {served.tls !== 'require' && (
        <div className="faint" style={{ fontSize: 11, margin: '2px 0 8px' }}>
          Try <code>nbdinfo --map {served.uri}</code>
        </div>
      )}
    </>
  );
}

/** What clients of the export are told, as `blockscope info` prints it. */
function Capabilities({ caps }: { caps: NonNullable<ExportState['capabilities']> }) {
  return (
    <details className="capabilities" open data-testid="serve-capabilities">
      <summary className="faint" style={{ fontSize: 11, cursor: 'pointer' }}>What clients are told</summary>
      <div className="mono" style={{ fontSize: 11, margin: '4px 0' }} data-testid="cap-block-sizes">{blockSizeLine(caps)}</div>
      <table className="grid mono" style={{ fontSize: 11 }}>
        <tbody>
          {capabilityRows(caps).map(([name, value]) => (
            <tr key={name} data-testid={`cap-${name}`}>
              <td>{name}</td>
              <td className={value === 'false' ? 'faint' : undefined}>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function Clients({ imageId }: { imageId: string }) {
  const mine = useApp(useShallow((s) => selectClientsOf(s, imageId)));
  return (
    <>
      <h2 style={{ marginTop: 12 }}>
        Clients <span className="right faint">{mine.length}</span>
      </h2>
      {mine.length === 0 ? <div className="faint">No one is connected.</div> : <ClientTable clients={mine} />}
    </>
  );
}

function ClientTable({ clients }: { clients: ClientInfo[] }) {
  return (
    <table className="grid" data-testid="clients">
      <thead>
        <tr>
          <th>Address · chain</th>
          <ClientCountHeads />
          <th aria-label="Disconnect" />
        </tr>
      </thead>
      <tbody>
        {clients.map((c) => (
          <tr key={c.id} title={`connected ${new Date(c.since).toLocaleTimeString()}`}>
            <td className="mono" title={c.chainLabel}>
              {c.remote}
              <ClientTlsNote client={c} />
              <div className="faint" style={{ fontSize: 10.5 }}>{c.chainLabel}</div>
            </td>
            <ClientCountCells client={c} />
            <td>
              <button
                className="btn icon small"
                title="Disconnect this client (the others stay connected)"
                aria-label={`Disconnect ${c.remote}`}
                data-testid="client-disconnect"
                onClick={() => void disconnectClient(c.id)}
              >
                ✕
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Uri({ label, uri, testId }: { label: string; uri: string; testId: string }) {
  return (
    <div className="uri">
      <span className="faint" style={{ width: 30 }}>{label}</span>
      <code data-testid={testId} title={uri}>{uri}</code>
      <button className="btn small" title="Copy" onClick={() => void navigator.clipboard?.writeText(uri)}>
        Copy
      </button>
    </div>
  );
}
