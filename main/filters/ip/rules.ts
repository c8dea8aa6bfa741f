// The ip filter's rules (nbdkit-ip-filter's syntax) and its verdict: the allow list is
// checked first, then the deny list, and a peer neither names is admitted.
import type { PeerInfo } from '../../backend/types.ts';
import { cidrContains, parseAddress, parseCidr, type Cidr } from './address.ts';

type Credential = 'pid' | 'uid' | 'gid';

export type Rule =
  | { kind: 'any' | 'anyipv4' | 'anyipv6' | 'anyunix'; text: string }
  | { kind: 'cidr'; range: Cidr; text: string }
  | { kind: Credential; id: number; text: string }
  | { kind: 'security'; label: string; text: string };

const KEYWORDS: Record<string, Rule['kind']> = {
  all: 'any', any: 'any',
  allipv4: 'anyipv4', anyipv4: 'anyipv4',
  allipv6: 'anyipv6', anyipv6: 'anyipv6',
  allunix: 'anyunix', anyunix: 'anyunix',
};

function parseRule(text: string): Rule {
  const keyword = KEYWORDS[text];
  if (keyword) return { kind: keyword, text } as Rule;
  const m = /^(pid|uid|gid):(\d+)$/.exec(text);
  if (m) return { kind: m[1] as Credential, id: Number(m[2]), text };
  if (text.startsWith('security:') && text.length > 'security:'.length) {
    return { kind: 'security', label: text.slice('security:'.length), text };
  }
  if (/^(vsock-cid|vsock-port):|^(allvsock|anyvsock)$/.test(text)) {
    throw new Error(`'${text}': AF_VSOCK sockets are not served, so there is nothing to match`);
  }
  return { kind: 'cidr', range: parseCidr(text), text };
}

/** "127.0.0.1,::1, 10.0.0.0/8" -> rules; an empty or absent list is no rules. */
export function parseRules(list: string | undefined): Rule[] {
  if (!list) return [];
  return list.split(',').map((s) => s.trim()).filter((s) => s !== '').map(parseRule);
}

/**
 * Whether `rule` names `peer`. A rule on credentials or a security label that Linux did not
 * give throws: an unknown peer must not slip past a uid rule (fail closed).
 */
export function ruleMatches(rule: Rule, peer: PeerInfo): boolean {
  switch (rule.kind) {
    case 'any': return true;
    case 'anyipv4': return peer.family === 'ipv4';
    case 'anyipv6': return peer.family === 'ipv6';
    case 'anyunix': return peer.family === 'unix';
    case 'cidr': {
      if (peer.family === 'unix') return false;
      const address = parseAddress(peer.address);
      return address !== null && cidrContains(rule.range, address);
    }
    case 'security':
      if (peer.family !== 'unix') return false;
      if (peer.security === null) throw new Error(`cannot check ${rule.text}: Linux gives no security label for this socket`);
      return peer.security === rule.label;
    default:
      if (peer.family !== 'unix') return false;
      if (!peer.credentials) {
        throw new Error(`cannot check ${rule.text}: the peer's credentials are unknown (the native addon that reads SO_PEERCRED is not built; run npm run build:native)`);
      }
      return peer.credentials[rule.kind] === rule.id;
  }
}

/** null when `peer` is admitted, else why it is refused. */
export function refusal(allow: readonly Rule[], deny: readonly Rule[], peer: PeerInfo): string | null {
  if (allow.some((r) => ruleMatches(r, peer))) return null;
  const denied = deny.find((r) => ruleMatches(r, peer));
  return denied ? `matches deny=${denied.text}${allow.length ? ' and no allow rule' : ''}` : null;
}
