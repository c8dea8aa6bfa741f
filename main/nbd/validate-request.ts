// Whether a transmission request may run at all, checked in one place before dispatch (as
// nbdkit's protocol.c validate_request does): flags valid for the command, range inside the
// export, the export able to do it. Each refusal is a BlockError whose errno the spec names.
import { BlockError, type Errno } from '../backend/errors.ts';
import type { Negotiated } from './handshake.ts';
import { CMD, CMD_FLAG, MAX_PAYLOAD, commandName } from './protocol.ts';
import type { NbdRequest } from './request-parser.ts';

export function validateRequest(req: NbdRequest, session: Negotiated): void {
  const top = session.open.top;
  const size = top.getSize();
  const { flags, offset, length } = req;
  // Once SEND_FUA is advertised the spec makes FUA valid on every command (clients such as
  // the kernel set it on flushes); it means nothing where nothing is written.
  const anyFua = top.canFua() !== 'none' ? CMD_FLAG.FUA : 0;
  const checkFlags = (allowed: number) => {
    if (flags & ~(allowed | anyFua)) throw new BlockError('EINVAL', `flags 0x${flags.toString(16)} are not valid for ${commandName(req.type)}`);
  };
  const checkRange = (errno: Errno) => {
    if (length === 0 || offset + length > size) throw new BlockError(errno, `range ${offset}+${length} is outside the export (size ${size})`);
  };
  const checkWritable = () => {
    if (!top.canWrite()) throw new BlockError('EPERM', 'the export is read-only');
  };
  const unsupported = (what: string) => new BlockError('EINVAL', `the export does not support ${what}`);

  switch (req.type) {
    case CMD.READ:
      checkFlags(CMD_FLAG.FUA | (session.structuredReplies ? CMD_FLAG.DF : 0));
      if (length > MAX_PAYLOAD) throw new BlockError('EINVAL', `read of ${length} bytes exceeds the maximum ${MAX_PAYLOAD}`);
      return checkRange('EINVAL');
    case CMD.WRITE:
      checkFlags(CMD_FLAG.FUA);
      checkWritable();
      if (req.oversized) throw new BlockError('EINVAL', `write of ${length} bytes exceeds the maximum ${MAX_PAYLOAD}`);
      return checkRange('ENOSPC');
    case CMD.FLUSH:
      checkFlags(0);
      if (!top.canFlush()) throw unsupported('flush');
      return;
    case CMD.TRIM:
      checkFlags(CMD_FLAG.FUA);
      checkWritable();
      if (!top.canTrim()) throw unsupported('trim');
      return checkRange('EINVAL');
    case CMD.WRITE_ZEROES:
      checkFlags(CMD_FLAG.FUA | CMD_FLAG.NO_HOLE | (top.canFastZero() ? CMD_FLAG.FAST_ZERO : 0));
      checkWritable();
      if (!top.canZero()) throw unsupported('write zeroes');
      return checkRange('ENOSPC');
    case CMD.CACHE:
      checkFlags(0);
      if (top.canCache() === 'none') throw unsupported('cache');
      return checkRange('EINVAL');
    case CMD.BLOCK_STATUS:
      checkFlags(CMD_FLAG.REQ_ONE);
      if (!session.structuredReplies || session.contexts.size === 0) {
        throw new BlockError('EINVAL', 'BLOCK_STATUS needs structured replies and a negotiated meta context');
      }
      return checkRange('EINVAL');
    default:
      throw new BlockError('EINVAL', `unknown command ${req.type}`);
  }
}
