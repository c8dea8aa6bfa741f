// errno -> NBD error code, in one place (the spec's list; anything else is EIO, except the
// codes with an obvious NBD equivalent).
import { NBD_ERRNO } from './protocol.ts';

export function nbdErrorCode(errno: string): number {
  switch (errno) {
    case 'EPERM':
    case 'EROFS':
    case 'EACCES':
      return NBD_ERRNO.EPERM;
    case 'ENOMEM':
      return NBD_ERRNO.ENOMEM;
    case 'EINVAL':
    case 'ERANGE':
      return NBD_ERRNO.EINVAL;
    case 'ENOSPC':
    case 'EFBIG':
    case 'EDQUOT':
      return NBD_ERRNO.ENOSPC;
    case 'EOVERFLOW':
      return NBD_ERRNO.EOVERFLOW;
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
      return NBD_ERRNO.ENOTSUP;
    case 'ESHUTDOWN':
      return NBD_ERRNO.ESHUTDOWN;
    default:
      return NBD_ERRNO.EIO;
  }
}

const names = new Map<number, string>(Object.entries(NBD_ERRNO).map(([k, v]) => [v, k]));

/** The errno name a wire error code stands for (clients treat unknown codes as EINVAL). */
export function nbdErrorName(code: number): string {
  return names.get(code) ?? 'EINVAL';
}
