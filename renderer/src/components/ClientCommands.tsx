// Copyable commands that reach the current export over TLS with the tools people have: libnbd's
// nbdinfo and nbdcopy (nbds:// URIs with tls-certificates= or tls-psk-file=) and qemu-img
// (--object tls-creds-x509 / tls-creds-psk and --image-opts). Built from what the engine says
// the server runs, so a command shown is one that connects.
import { uriHost } from '../../../shared/nbd-uri.ts';
import type { ServerStatus, TlsServerInfo } from '../../../shared/ipc.ts';

export interface ClientCommand {
  tool: 'nbdinfo' | 'nbdcopy' | 'qemu-img';
  command: string;
}

/** A word for a POSIX shell: quoted when it holds anything the shell would read. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A value inside a qemu option list, where ',' separates options and ',,' is a comma. */
const qemuValue = (text: string) => text.replace(/,/g, ',,');
/** A URI path or query value: the bytes a URI cannot hold as they are, escaped. */
const uriPart = (text: string) => encodeURIComponent(text).replace(/%2F/g, '/');

/** Where a client on this machine connects: a wildcard bind address is reached on loopback. */
export function clientHost(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}

/**
 * The commands for `exportName` on the running server; none when it does not do TLS. `pskUser`
 * picks the identity shown when the key file holds several (the first one otherwise).
 */
export function clientCommands(status: ServerStatus, exportName: string, pskUser?: string): ClientCommand[] {
  const tls = status.tls;
  if (!status.running || !tls || tls.mode === 'off' || status.port === undefined) return [];
  const host = clientHost(status.host ?? '');
  const port = status.port;
  const user = tls.kind === 'psk' ? (pskUser && tls.pskUsers.includes(pskUser) ? pskUser : tls.pskUsers[0] ?? '') : '';
  const query = tls.kind === 'x509' ? `tls-certificates=${uriPart(tls.clientDir)}` : `tls-psk-file=${uriPart(tls.pskFile)}`;
  const userPart = tls.kind === 'psk' ? `${uriPart(user)}@` : '';
  const uri = `nbds://${userPart}${uriHost(host)}:${port}/${uriPart(exportName)}?${query}`;
  const object = qemuObject(tls, user);
  const imageOpts = `driver=nbd,host=${qemuValue(host)},port=${port},export=${qemuValue(exportName)},tls-creds=tls0`;
  return [
    { tool: 'nbdinfo', command: `nbdinfo ${shellWord(uri)}` },
    { tool: 'nbdcopy', command: `nbdcopy ${shellWord(uri)} copy.img` },
    { tool: 'qemu-img', command: `qemu-img info --object ${shellWord(object)} --image-opts ${shellWord(imageOpts)}` },
  ];
}

function qemuObject(tls: Exclude<TlsServerInfo, { mode: 'off' }>, user: string): string {
  if (tls.kind === 'x509') return `tls-creds-x509,id=tls0,dir=${qemuValue(tls.clientDir)},endpoint=client`;
  // qemu reads DIR/keys.psk: the app's key file has that name.
  return `tls-creds-psk,id=tls0,dir=${qemuValue(tls.pskDir)},username=${qemuValue(user)},endpoint=client`;
}

export function ClientCommands({ status, exportName, pskUser }: { status: ServerStatus; exportName: string; pskUser?: string }) {
  const tls = status.tls;
  const commands = clientCommands(status, exportName, pskUser);
  if (!tls || tls.mode === 'off' || commands.length === 0) return null;
  return (
    <div className="client-commands" data-testid="client-commands">
      <div className="faint" style={{ fontSize: 11, margin: '2px 0 4px' }}>
        TLS {tls.mode}
        {tls.kind === 'x509' ? (
          <>
            {' · '}client files (ca-cert.pem, client-cert.pem, client-key.pem) in <code data-testid="client-files">{tls.clientDir}</code>
            {tls.caFingerprint && <div className="mono" data-testid="ca-fingerprint">CA SHA-256 {tls.caFingerprint}</div>}
          </>
        ) : (
          <>{' · '}key file <code data-testid="client-files">{tls.pskFile}</code> for {tls.pskUsers.join(', ')}</>
        )}
      </div>
      {commands.map((c) => (
        <div className="uri" key={c.tool}>
          <span className="faint" style={{ width: 56 }}>{c.tool}</span>
          <code data-testid={`client-command-${c.tool}`} title={c.command}>{c.command}</code>
          <button className="btn small" title="Copy" onClick={() => void navigator.clipboard?.writeText(c.command)} data-testid={`copy-${c.tool}`}>
            Copy
          </button>
        </div>
      ))}
    </div>
  );
}
