// The TLS flags of the serving commands (TLS_OPTIONS) turned into a server TLS config. Apart
// from options.ts so that map, info and compare load no TLS code at start-up.
import { loadCertificates, loadPskFile, TLS_MODES, type TlsMode, type TlsServerConfig } from '../../nbd/tls-credentials.ts';
import { UsageError } from './usage-error.ts';
import { oneValue, type ParsedOptions } from './options.ts';

/**
 * --tls and its credentials, loaded and checked now so a bad file stops the server before it
 * listens. Credentials without --tls mean --tls=on (nbdkit would ignore them silently).
 */
export function tlsFromOptions(p: ParsedOptions): TlsServerConfig | undefined {
  const modeText = oneValue(p, 'tls');
  const certificates = oneValue(p, 'tls-certificates');
  const psk = oneValue(p, 'tls-psk');
  const verifyPeer = p.flags.has('tls-verify-peer');
  if (modeText !== undefined && !TLS_MODES.includes(modeText as TlsMode)) throw new UsageError(`--tls=${modeText}: expected off, on or require`);
  if (certificates !== undefined && psk !== undefined) throw new UsageError('--tls-certificates and --tls-psk: choose one');
  if (verifyPeer && certificates === undefined) throw new UsageError('--tls-verify-peer checks client certificates: it needs --tls-certificates DIR');
  const mode = (modeText ?? (certificates ?? psk ? 'on' : 'off')) as TlsMode;
  if (mode === 'off') return undefined;
  if (certificates === undefined && psk === undefined) throw new UsageError(`--tls=${mode} needs --tls-certificates DIR or --tls-psk FILE`);
  return { mode, credentials: psk !== undefined ? loadPskFile(psk) : loadCertificates(certificates!, verifyPeer) };
}
