// http: a disk image at an http:// or https:// URL, read-only (nbdkit-curl-plugin's
// parameters where they apply). Every read is a range request (client.ts); extents are not
// offered, so the whole disk maps as data, as nbdkit's curl plugin reports it. Image formats
// at a URL are read through the same client by their own plugins (main/formats/image-file.ts).
import { readFileSync } from 'node:fs';
import { BlockError } from '../../backend/errors.ts';
import { definePlugin } from '../../backend/types.ts';
import { HttpResource, redactUrl, type HttpOptions } from './client.ts';

export const httpPlugin = definePlugin({
  name: 'http',
  summary: 'disk image at an http(s):// URL, read with range requests (read-only)',
  magicKey: 'url',
  params: [
    { key: 'url', kind: 'string', required: true, description: 'http:// or https:// URL of the image (http://user:password@host/… works too)' },
    { key: 'header', kind: 'string', repeat: true, description: "extra request header 'Name: value' (repeatable; 'Name:' removes one, 'Name;' sends it empty)" },
    { key: 'cookie', kind: 'string', description: "Cookie header 'name=value; name2=value2', or +FILE to read it from a file" },
    { key: 'user', kind: 'string', description: 'user name for HTTP Basic authentication' },
    { key: 'password', kind: 'string', description: 'password for HTTP Basic authentication; +FILE reads it from a file, -FD from an inherited fd' },
    { key: 'cainfo', kind: 'path', description: 'PEM file of CA certificates to trust instead of the system ones' },
    { key: 'sslverify', kind: 'bool', default: 'true', description: "verify the server's certificate and name" },
    { key: 'timeout', kind: 'int', default: '0', min: 0, noop: '0 = no timeout', description: 'seconds to wait for a request' },
    { key: 'connections', kind: 'int', default: '4', min: 1, max: 64, description: 'keep-alive connections to the server; a large read is split across them' },
    { key: 'followlocation', kind: 'bool', default: 'true', description: 'follow redirects' },
  ],
  async create(params) {
    const resource = await HttpResource.open(params.url, httpOptions(params));
    return {
      description: `${redactUrl(params.url)}, ${resource.size} bytes over HTTP`,
      open: () => ({
        getSize: () => resource.size,
        canWrite: () => false,
        canMultiConn: () => true,
        canCache: () => 'emulate',
        pread: (buf, offset) => resource.read(buf, offset),
      }),
      unload: () => resource.close(),
    };
  },
});

interface HttpParams {
  header?: string;
  cookie?: string;
  user?: string;
  password?: string;
  cainfo?: string;
  sslverify: boolean;
  timeout: number;
  connections: number;
  followlocation: boolean;
}

/** The client options the parameters describe; secrets given as +FILE or -FD are read here. */
export function httpOptions(params: HttpParams): HttpOptions {
  const headers: Record<string, string> = {};
  const removeHeaders: string[] = [];
  for (const line of (params.header ?? '').split('\n').filter((l) => l.trim() !== '')) {
    const m = /^([^:;\s]+)\s*([:;])\s*(.*)$/.exec(line.trim());
    if (!m) throw new BlockError('EINVAL', `http: header '${line}' is not 'Name: value'`);
    if (m[2] === ';') headers[m[1]!] = '';
    else if (m[3] === '') removeHeaders.push(m[1]!);
    else headers[m[1]!] = m[3]!;
  }
  if (params.cookie !== undefined) headers.cookie = secret(params.cookie, 'cookie');
  if (params.user !== undefined || params.password !== undefined) {
    const password = params.password === undefined ? '' : secret(params.password, 'password');
    headers.authorization = `Basic ${Buffer.from(`${params.user ?? ''}:${password}`).toString('base64')}`;
  }
  return {
    headers,
    removeHeaders,
    ca: params.cainfo === undefined ? undefined : readFileSync(params.cainfo, 'utf8'),
    sslVerify: params.sslverify,
    timeoutMs: params.timeout * 1000,
    connections: params.connections,
    followLocation: params.followlocation,
  };
}

/** nbdkit's password syntax: +FILE (first line of a file), -FD (an inherited fd), else the text. */
function secret(value: string, key: string): string {
  if (value === '-') throw new BlockError('EINVAL', `http: ${key}=- (ask interactively) is not supported; use ${key}=+FILE`);
  const fd = /^-(\d+)$/.exec(value);
  const text = value.startsWith('+') ? readFileSync(value.slice(1), 'utf8') : fd ? readFileSync(Number(fd[1]), 'utf8') : value;
  return text.replace(/\r?\n$/, '');
}
