// One error type for the whole chain. Plugins and filters throw it (or let Node's fs errors,
// which carry the same kind of errno code, pass); the NBD layer maps the code to the wire.

export type Errno =
  | 'EPERM' | 'EIO' | 'ENOMEM' | 'EINVAL' | 'ENOSPC' | 'EOVERFLOW' | 'ENOTSUP' | 'ESHUTDOWN'
  | 'EROFS' | 'EFBIG' | 'EDQUOT' | 'EOPNOTSUPP' | 'ENOENT' | 'EBADF' | 'EACCES';

export class BlockError extends Error {
  readonly code: Errno;
  constructor(code: Errno, message: string) {
    super(message);
    this.name = 'BlockError';
    this.code = code;
  }
}

/** The errno code carried by any error (BlockError or a Node system error), EIO if none. */
export function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : 'EIO';
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
