// The ip filter's verdicts, rule by rule, as nbdkit-ip-filter(1) states them: allow is
// checked first, then deny, and a peer neither list names is admitted.
import { describe, expect, it } from 'vitest';
import { Chain, ConnectionRefused } from '../../backend/chain.ts';
import type { PeerInfo } from '../../backend/types.ts';
import { memoryPlugin } from '../../plugins/memory/index.ts';
import { filterInstance, sharedPlugin } from '../testing.ts';
import { ipFilter } from './index.ts';

const v4 = (address: string): PeerInfo => ({ family: 'ipv4', address, port: 40000 });
const v6 = (address: string): PeerInfo => ({ family: 'ipv6', address, port: 40000 });
const unix = (uid: number, gid = 100, pid = 42, security: string | null = null): PeerInfo => ({ family: 'unix', credentials: { pid, uid, gid }, security });
const unknownUnix: PeerInfo = { family: 'unix', credentials: null, security: null };

/** The filter's verdict: 'ok' or the refusal's reason. */
async function verdict(params: Record<string, string>, peer: PeerInfo): Promise<string> {
  const plugin = await sharedPlugin(memoryPlugin, { size: '64K' });
  const chain = new Chain({ name: 'memory', instance: plugin.instance }, [await filterInstance(ipFilter, params)]);
  try {
    await chain.preconnect(peer);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectionRefused);
    expect((err as ConnectionRefused).filter).toBe('ip');
    return (err as ConnectionRefused).reason;
  }
}

describe('ip filter', () => {
  it('admits everyone when neither list is given', async () => {
    expect(await verdict({}, v4('8.8.8.8'))).toBe('ok');
    expect(await verdict({}, unknownUnix)).toBe('ok');
  });

  it('checks allow before deny, whatever order they are written in', async () => {
    const params = { deny: 'all', allow: '127.0.0.1,::1' };
    expect(await verdict(params, v4('127.0.0.1'))).toBe('ok');
    expect(await verdict(params, v6('::1'))).toBe('ok');
    expect(await verdict(params, v4('127.0.0.2'))).toBe('matches deny=all and no allow rule');
    expect(await verdict(params, v6('::2'))).toBe('matches deny=all and no allow rule');
  });

  it('admits a peer no rule names', async () => {
    expect(await verdict({ deny: '8.0.0.0/8' }, v4('9.0.0.1'))).toBe('ok');
    expect(await verdict({ deny: '8.0.0.0/8' }, v4('8.255.0.1'))).toBe('matches deny=8.0.0.0/8');
  });

  it('tells the families apart with anyipv4, anyipv6 and anyunix', async () => {
    expect(await verdict({ allow: 'anyipv6', deny: 'all' }, v6('2001:db8::5'))).toBe('ok');
    expect(await verdict({ allow: 'anyipv6', deny: 'all' }, v4('10.0.0.1'))).toBe('matches deny=all and no allow rule');
    expect(await verdict({ deny: 'anyipv4' }, v4('10.0.0.1'))).toBe('matches deny=anyipv4');
    expect(await verdict({ deny: 'allunix' }, unix(0))).toBe('matches deny=allunix');
    expect(await verdict({ deny: 'anyunix' }, v6('::1'))).toBe('ok');
  });

  it('matches an IPv4 rule written as a mapped IPv6 range', async () => {
    expect(await verdict({ deny: '::ffff:10.0.0.0/104' }, v4('10.9.9.9'))).toBe('matches deny=::ffff:10.0.0.0/104');
    expect(await verdict({ deny: '::ffff:10.0.0.0/104' }, v4('11.0.0.1'))).toBe('ok');
  });

  it('matches a Unix peer by uid, gid, pid and security label', async () => {
    expect(await verdict({ allow: 'uid:1000', deny: 'all' }, unix(1000))).toBe('ok');
    expect(await verdict({ allow: 'uid:1000', deny: 'all' }, unix(1001))).toBe('matches deny=all and no allow rule');
    expect(await verdict({ deny: 'gid:100' }, unix(5, 100))).toBe('matches deny=gid:100');
    expect(await verdict({ deny: 'pid:42' }, unix(5, 7, 42))).toBe('matches deny=pid:42');
    expect(await verdict({ allow: 'security:unconfined', deny: 'all' }, unix(5, 7, 8, 'unconfined'))).toBe('ok');
    // Credential rules never match TCP peers.
    expect(await verdict({ deny: 'uid:0' }, v4('127.0.0.1'))).toBe('ok');
  });

  it('refuses when the credentials a rule needs are unknown (fail closed)', async () => {
    expect(await verdict({ deny: 'uid:1000' }, unknownUnix)).toMatch(/^cannot check uid:1000: the peer's credentials are unknown/);
    expect(await verdict({ allow: 'gid:5' }, unknownUnix)).toMatch(/^cannot check gid:5/);
    expect(await verdict({ deny: 'security:x' }, unix(1))).toBe('cannot check security:x: Linux gives no security label for this socket');
    // A rule met before the unknown one still decides.
    expect(await verdict({ allow: 'anyunix,uid:1' }, unknownUnix)).toBe('ok');
  });

  it('names the parameter and the rule it cannot read', async () => {
    await expect(filterInstance(ipFilter, { allow: '10.0.0.0/40' })).rejects.toThrow("ip: allow: '10.0.0.0/40': the prefix length must be 0 to 32");
    await expect(filterInstance(ipFilter, { deny: 'uid:abc' })).rejects.toThrow("ip: deny: 'uid:abc' is not an IPv4 or IPv6 address");
    await expect(filterInstance(ipFilter, { deny: 'vsock-cid:3' })).rejects.toThrow('AF_VSOCK sockets are not served');
  });
});
