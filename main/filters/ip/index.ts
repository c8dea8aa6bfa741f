// ip: admit or refuse clients by address, or on a Unix socket by the peer's uid, gid, pid or
// security label (nbdkit-ip-filter). It acts only before the handshake; served data passes
// straight through.
import { BlockError } from '../../backend/errors.ts';
import { defineFilter } from '../../backend/types.ts';
import { parseRules, refusal } from './rules.ts';

const RULE_SYNTAX = 'comma list: all, anyipv4, anyipv6, anyunix, 10.0.0.0/8, ::1, uid:N, gid:N, pid:N, security:LABEL';

export const ipFilter = defineFilter({
  name: 'ip',
  summary: 'admit or refuse clients by address, or by uid/gid on a Unix socket',
  params: [
    { key: 'allow', kind: 'string', description: `clients to admit, checked first (${RULE_SYNTAX})` },
    { key: 'deny', kind: 'string', description: 'clients to refuse unless allowed (same syntax; e.g. all)' },
  ],
  create(params) {
    const parsed = (key: 'allow' | 'deny') => {
      try {
        return parseRules(params[key]);
      } catch (err) {
        // "component: key: reason", the shape parseParams uses, so forms put it beside the field.
        throw new Error(`ip: ${key}: ${(err as Error).message}`, { cause: err });
      }
    };
    const allow = parsed('allow');
    const deny = parsed('deny');
    return {
      preconnect(peer) {
        const why = refusal(allow, deny, peer);
        if (why) throw new BlockError('EACCES', why);
      },
      open: () => ({}),
    };
  },
});
