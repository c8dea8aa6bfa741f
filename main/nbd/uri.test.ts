import fc from 'fast-check';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { propertyParams } from '../testing/property-params.ts';
import { parseNbdUri } from './uri.ts';

describe('parseNbdUri: TLS', () => {
  it('nbd:// and nbd+unix:// carry no TLS, even with TLS parameters', () => {
    expect(parseNbdUri('nbd://h/e?tls-certificates=/d')).toEqual({ host: 'h', port: 10809, exportName: 'e', tls: undefined });
    expect(parseNbdUri('nbd+unix:///?socket=/s')).toEqual({ path: '/s', exportName: '', tls: undefined });
  });

  it('nbds:// with a certificate folder checks the server against the URI host', () => {
    expect(parseNbdUri('nbds://server.example:10810/disk?tls-certificates=/etc/pki/c')).toEqual({
      host: 'server.example', port: 10810, exportName: 'disk',
      tls: { kind: 'x509', certificates: '/etc/pki/c', verifyPeer: true, hostname: 'server.example' },
    });
  });

  it('nbds+unix:// checks the certificate against localhost, as libnbd does', () => {
    expect(parseNbdUri('nbds+unix:///x?socket=/s&tls-certificates=/c&tls-verify-peer=false').tls)
      .toEqual({ kind: 'x509', certificates: '/c', verifyPeer: false, hostname: 'localhost' });
  });

  it('PSK: the user from the userinfo, else the login name', () => {
    expect(parseNbdUri('nbds://alice@h/?tls-psk-file=/k.psk').tls).toEqual({ kind: 'psk', pskFile: '/k.psk', username: 'alice' });
    expect(parseNbdUri('nbds+unix:///?socket=/s&tls-psk-file=/k.psk').tls).toEqual({ kind: 'psk', pskFile: '/k.psk', username: os.userInfo().username });
  });

  it('nbds:// without parameters uses the system CAs; a bad tls-verify-peer is an error', () => {
    expect(parseNbdUri('nbds://[::1]/').tls).toEqual({ kind: 'x509', certificates: undefined, verifyPeer: true, hostname: '::1' });
    expect(() => parseNbdUri('nbds://h/?tls-verify-peer=maybe')).toThrow(/tls-verify-peer=maybe: expected true or false/);
    expect(() => parseNbdUri('nbds+unix:///')).toThrow(/nbds\+unix:\/\/ URI needs \?socket=PATH/);
  });

  it('any user, host, port, export and files survive a URI built from them', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/);
    const text = fc.string({ minLength: 0, maxLength: 12 });
    fc.assert(
      fc.property(word, fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), fc.integer({ min: 1, max: 65535 }), text, text, fc.boolean(), (user, host, port, exportName, file, psk) => {
        const q = psk ? `tls-psk-file=${encodeURIComponent(`/${file}`)}` : `tls-certificates=${encodeURIComponent(`/${file}`)}`;
        const uri = `nbds://${encodeURIComponent(user)}@${host}:${port}/${encodeURIComponent(exportName)}?${q}`;
        const a = parseNbdUri(uri);
        expect(a).toMatchObject({ host, port, exportName });
        expect(a.tls).toEqual(psk ? { kind: 'psk', pskFile: `/${file}`, username: user } : { kind: 'x509', certificates: `/${file}`, verifyPeer: true, hostname: host });
      }),
      propertyParams(200),
    );
  });
});
