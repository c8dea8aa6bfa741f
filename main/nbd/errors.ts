// errno -> NBD error code, in one place (the spec's list; anything else is EIO, except the
// codes with an obvious NBD equivalent). Two codes mean something only for the request that
// can provoke them (as nbdkit's nbd_errno decides with the flags): ENOTSUP answers a
// FAST_ZERO write-zeroes, EOVERFLOW a DF read; anywhere else a client gets EINVAL.
import { CMD_FLAG, NBD_ERRNO } from './protocol.ts';

export function nbdErrorCode(errno: string, req?: { flags: number }): number {
  const flags = req?.flags ?? CMD_FLAG.FAST_ZERO | CMD_FLAG.DF;
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
      return flags & CMD_FLAG.DF ? NBD_ERRNO.EOVERFLOW : NBD_ERRNO.EINVAL;
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
      return flags & CMD_FLAG.FAST_ZERO ? NBD_ERRNO.ENOTSUP : NBD_ERRNO.EINVAL;
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
