// The contract's data about serving: an export's state and capabilities, connected clients,
// the server's status and its TLS. (Part of the IPC contract: import it through shared/ipc.ts.)
export interface ExportState {
  exportName: string;
  /** Whether clients may write: asked for, and the chain can write. */
  writable: boolean;
  /**
   * Present when writes were asked for but the chain refuses them (a read-only format, the
   * readonly filter): why, and what would make it writable. Clients get a read-only export.
   */
  readOnlyReason?: string;
  /** With readOnlyReason: switching the cow filter on would make the export writable. */
  offerCow?: boolean;
  /** nbd://host:port/export */
  uri: string;
  /** nbd+unix:///export?socket=... when a socket path was given. */
  unixUri?: string;
  /** What a client of the export is told it can do, as `blockscope info` prints it. */
  capabilities?: ExportCapabilities;
  /** The server's TLS mode when it is not off (nbd:// then fails under require: clients need nbds://). */
  tls?: Exclude<TlsMode, 'off'>;
}

/** The capability names `blockscope info` prints, in its order. */
export const CAPABILITY_NAMES = [
  'is_read_only', 'can_flush', 'can_fua', 'is_rotational', 'can_trim', 'can_zero', 'can_fast_zero', 'can_multi_conn', 'can_cache', 'can_extents',
] as const;
export type CapabilityName = (typeof CAPABILITY_NAMES)[number];

export interface ExportCapabilities {
  flags: Record<CapabilityName, boolean>;
  /** The block sizes the server advertises (NBD_INFO_BLOCK_SIZE), in bytes. */
  blockSize: { minimum: number; preferred: number; maximum: number };
}

/** One client connection as the NBD server counts it. */
export interface ConnectionInfo {
  id: number;
  remote: string;
  exportName: string;
  /** The chain this connection runs (open connections keep theirs across toggles). */
  chainLabel: string;
  /** ms since the epoch */
  since: number;
  requests: number;
  bytesRead: number;
  bytesWritten: number;
  /** Present when the client is on TLS (STARTTLS), with its PSK identity or verified certificate subject. */
  tls?: { pskIdentity?: string; certificateSubject?: string };
}

/** A connection as the serving panel lists it: with the image its export shows. */
export interface ClientInfo extends ConnectionInfo {
  imageId: string | null;
}

export interface ServerStatus {
  running: boolean;
  host?: string;
  port?: number;
  socketPath?: string;
  /** nbd://host:port (no export) while listening on TCP. */
  baseUri?: string;
  exports: (ExportState & { imageId: string })[];
  /** While running: STARTTLS and the credentials behind it. */
  tls?: TlsServerInfo;
  /** While running on a non-loopback address without TLS require: what the CLI warns too. */
  exposureWarning?: string;
}

/** nbdkit's --tls: off (STARTTLS refused), on (offered), require (nothing else before it). */
export const TLS_MODES = ['off', 'on', 'require'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** What server.start asks for: a certificates folder in nbdkit's layout, or a psktool key file. */
export interface TlsServeSettings {
  mode: TlsMode;
  certificates?: string;
  pskFile?: string;
  /** Also require a client certificate signed by the folder's ca-cert.pem. */
  verifyPeer?: boolean;
}

/** The running server's TLS, with what a client needs: its files' folder (x509) or key file and identities (PSK). */
export type TlsServerInfo =
  | { mode: 'off' }
  | { mode: Exclude<TlsMode, 'off'>; kind: 'x509'; certificates: string; clientDir: string; verifyPeer: boolean; caFingerprint?: string }
  | { mode: Exclude<TlsMode, 'off'>; kind: 'psk'; pskFile: string; pskDir: string; pskUsers: string[] };

/** Credentials the app made in its state folder (tls/): absent parts were not made yet. */
export interface TlsCredentialsInfo {
  /** serverDir for --tls-certificates; clientDir (ca-cert.pem, client-cert.pem, client-key.pem) for clients. */
  certificates?: { serverDir: string; clientDir: string; caFingerprint: string };
  /** file is dir/keys.psk (qemu's tls-creds-psk reads dir). */
  psk?: { dir: string; file: string; users: string[] };
}
