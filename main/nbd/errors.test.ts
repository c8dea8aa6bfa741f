import { expect, it } from 'vitest';
import { nbdErrorCode } from './errors.ts';
import { CMD_FLAG, NBD_ERRNO } from './protocol.ts';

it('maps errno codes to the spec list, EIO for the rest', () => {
  expect(nbdErrorCode('EPERM', { flags: 0 })).toBe(NBD_ERRNO.EPERM);
  expect(nbdErrorCode('EROFS', { flags: 0 })).toBe(NBD_ERRNO.EPERM);
  expect(nbdErrorCode('EDQUOT', { flags: 0 })).toBe(NBD_ERRNO.ENOSPC);
  expect(nbdErrorCode('EBADF', { flags: 0 })).toBe(NBD_ERRNO.EIO);
});

it('answers ENOTSUP only to a FAST_ZERO request and EOVERFLOW only to a DF read', () => {
  expect(nbdErrorCode('ENOTSUP', { flags: CMD_FLAG.FAST_ZERO })).toBe(NBD_ERRNO.ENOTSUP);
  expect(nbdErrorCode('EOPNOTSUPP', { flags: 0 })).toBe(NBD_ERRNO.EINVAL);
  expect(nbdErrorCode('EOVERFLOW', { flags: CMD_FLAG.DF })).toBe(NBD_ERRNO.EOVERFLOW);
  expect(nbdErrorCode('EOVERFLOW', { flags: CMD_FLAG.FUA })).toBe(NBD_ERRNO.EINVAL);
});
