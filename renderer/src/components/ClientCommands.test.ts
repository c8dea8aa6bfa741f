import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServerStatus } from '../../../shared/ipc.ts';
// Test support only: the seeds every property in the repository runs with.
// eslint-disable-next-line no-restricted-imports
import { propertyParams } from '../../../main/testing/property-params.ts';
import { clientCommands, shellWord } from './ClientCommands.tsx';

const base: ServerStatus = { running: true, host: '0.0.0.0', port: 10809, exports: [] };

describe('clientCommands', () => {
  it('x509: libnbd URIs with the client folder, qemu-img with tls-creds-x509, on loopback for a wildcard address', () => {
    const status: ServerStatus = { ...base, tls: { mode: 'require', kind: 'x509', certificates: '/s/tls/server', clientDir: '/s/tls/client', verifyPeer: false } };
    expect(clientCommands(status, 'disk')).toEqual([
      { tool: 'nbdinfo', command: "nbdinfo 'nbds://127.0.0.1:10809/disk?tls-certificates=/s/tls/client'" },
      { tool: 'nbdcopy', command: "nbdcopy 'nbds://127.0.0.1:10809/disk?tls-certificates=/s/tls/client' copy.img" },
      { tool: 'qemu-img', command: 'qemu-img info --object tls-creds-x509,id=tls0,dir=/s/tls/client,endpoint=client --image-opts driver=nbd,host=127.0.0.1,port=10809,export=disk,tls-creds=tls0' },
    ]);
  });

  it('PSK: the user in the URI and in tls-creds-psk, which reads keys.psk from the folder', () => {
    const status: ServerStatus = { ...base, host: '::1', tls: { mode: 'on', kind: 'psk', pskFile: '/s/psk/keys.psk', pskDir: '/s/psk', pskUsers: ['alice', 'bob'] } };
    const [nbdinfo, , qemu] = clientCommands(status, '', 'bob');
    expect(nbdinfo!.command).toBe("nbdinfo 'nbds://bob@[::1]:10809/?tls-psk-file=/s/psk/keys.psk'");
    expect(qemu!.command).toBe('qemu-img info --object tls-creds-psk,id=tls0,dir=/s/psk,username=bob,endpoint=client --image-opts driver=nbd,host=::1,port=10809,export=,tls-creds=tls0');
    // A user the file does not hold is not offered: the first one is.
    expect(clientCommands(status, '', 'mallory')[0]!.command).toContain('nbds://alice@');
  });

  it('escapes what a URI, a qemu option list or the shell would misread', () => {
    const status: ServerStatus = { ...base, host: '127.0.0.1', tls: { mode: 'on', kind: 'x509', certificates: '/a', clientDir: "/o'neil dir,x", verifyPeer: false } };
    const [nbdinfo, , qemu] = clientCommands(status, 'a b');
    expect(nbdinfo!.command).toBe("nbdinfo 'nbds://127.0.0.1:10809/a%20b?tls-certificates=/o'\\''neil%20dir%2Cx'");
    expect(qemu!.command).toContain("--object 'tls-creds-x509,id=tls0,dir=/o'\\''neil dir,,x,endpoint=client'");
  });

  it('none without TLS or while stopped', () => {
    expect(clientCommands({ ...base, tls: { mode: 'off' } }, '')).toEqual([]);
    expect(clientCommands({ running: false, exports: [] }, '')).toEqual([]);
  });
});

describe('shellWord', () => {
  it('any text comes out of sh as it went in', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', "'", '"', '\\', '$', '`', '!', '*', '?', ';', '&', '|', '\n', '/', ',', '=', '%', '~', '#') });
    fc.assert(fc.property(text, (t) => {
      expect(execFileSync('sh', ['-c', `printf %s ${shellWord(t)}`], { encoding: 'utf8' })).toBe(t);
    }), propertyParams(60));
  });
});
