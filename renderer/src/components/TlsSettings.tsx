// The serving form's TLS part: the mode (nbdkit's off / on / require) and where the credentials
// come from: a certificates folder (typed, or made by "Create certificates" in the app's state
// folder) or a PSK file (a key generated for a named user). TLS is the whole server's, so an
// image joining a running server shows its settings; the engine reads and checks the files
// when serving starts and names the one at fault.
import { TLS_MODES, type TlsMode } from '../../../shared/ipc.ts';
import { createCertificates, createPskKey } from '../app/actions.ts';
import type { ServeSettings } from '../store/server-slice.ts';
import { useApp } from '../store/store.ts';

const MODE_WORDS: Record<TlsMode, string> = {
  off: 'Off',
  on: 'On (offered)',
  require: 'Require',
};

export function TlsSettings({ imageId, settings, edit }: { imageId: string; settings: ServeSettings; edit: (patch: Partial<ServeSettings>) => void }) {
  return (
    <>
      <div className="field">
        <label htmlFor="serve-tls">TLS</label>
        <select id="serve-tls" className="input" value={settings.tlsMode} onChange={(e) => edit({ tlsMode: e.target.value as TlsMode })} data-testid="serve-tls-mode">
          {TLS_MODES.map((m) => <option key={m} value={m}>{MODE_WORDS[m]}</option>)}
        </select>
      </div>
      {settings.tlsMode !== 'off' && (
        <div className="tls-settings" data-testid="serve-tls-settings">
          <div className="field">
            <span />
            <div style={{ display: 'flex', gap: '2px 12px', flexWrap: 'wrap' }}>
              <label className="check">
                <input type="radio" name={`tls-kind-${imageId}`} checked={settings.tlsKind === 'x509'} onChange={() => edit({ tlsKind: 'x509' })} data-testid="serve-tls-x509" />
                Certificates
              </label>
              <label className="check">
                <input type="radio" name={`tls-kind-${imageId}`} checked={settings.tlsKind === 'psk'} onChange={() => edit({ tlsKind: 'psk' })} data-testid="serve-tls-psk" />
                Pre-shared key
              </label>
            </div>
          </div>
          {settings.tlsKind === 'x509' ? <CertificateFields imageId={imageId} settings={settings} edit={edit} /> : <PskFields imageId={imageId} settings={settings} edit={edit} />}
        </div>
      )}
    </>
  );
}

function CertificateFields({ imageId, settings, edit }: { imageId: string; settings: ServeSettings; edit: (patch: Partial<ServeSettings>) => void }) {
  const made = useApp((s) => s.tlsMade.certificates);
  return (
    <>
      <div className="field">
        <label htmlFor="serve-tls-dir">Folder</label>
        <input
          id="serve-tls-dir" className="input mono" value={settings.certificates} placeholder="ca-cert.pem, server-cert.pem, server-key.pem"
          onChange={(e) => edit({ certificates: e.target.value })} data-testid="serve-tls-dir"
        />
      </div>
      <div className="field">
        <span />
        <div style={{ display: 'flex', gap: 8, alignItems: 'center', flexWrap: 'wrap' }}>
          <button
            type="button" className="btn small" onClick={() => void createCertificates(imageId)} data-testid="serve-tls-create"
            title="A CA (kept if there is one), a server certificate for this host's names and the bind address, and a client certificate"
          >
            {made ? 'Create new certificates' : 'Create certificates'}
          </button>
          <label className="check">
            <input type="checkbox" checked={settings.verifyPeer} onChange={(e) => edit({ verifyPeer: e.target.checked })} data-testid="serve-tls-verify-peer" />
            Require a client certificate
          </label>
        </div>
      </div>
      {made && made.serverDir === settings.certificates && (
        <div className="tls-made faint mono" data-testid="serve-tls-made">
          <div>CA SHA-256 {made.caFingerprint}</div>
          <div>client files: {made.clientDir}</div>
        </div>
      )}
    </>
  );
}

function PskFields({ imageId, settings, edit }: { imageId: string; settings: ServeSettings; edit: (patch: Partial<ServeSettings>) => void }) {
  return (
    <>
      <div className="field">
        <label htmlFor="serve-psk-user">User</label>
        <div className="tls-row">
          <input id="serve-psk-user" className="input mono" value={settings.pskUser} placeholder="e.g. alice" onChange={(e) => edit({ pskUser: e.target.value })} data-testid="serve-psk-user" />
          <button
            type="button" className="btn small" disabled={settings.pskUser.trim() === ''} onClick={() => void createPskKey(imageId)} data-testid="serve-psk-create"
            title="A new random key for this user in the app's keys.psk (other users keep theirs)"
          >
            Generate key
          </button>
        </div>
      </div>
      <div className="field">
        <label htmlFor="serve-psk-file">Key file</label>
        <input id="serve-psk-file" className="input mono" value={settings.pskFile} placeholder="psktool's format: user:hexkey" onChange={(e) => edit({ pskFile: e.target.value })} data-testid="serve-psk-file" />
      </div>
    </>
  );
}
