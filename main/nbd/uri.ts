// NBD URIs (the NBD project's doc/uri.md subset that matters here): nbd://host[:port]/export
// and nbd+unix:///export?socket=PATH.
export type NbdAddress = { host: string; port: number; exportName: string } | { path: string; exportName: string };

export { isNbdUri } from '../../shared/nbd-uri.ts';

export function parseNbdUri(text: string): NbdAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`'${text}' is not a valid NBD URI (examples: nbd://127.0.0.1:10809/, nbd+unix:///?socket=/tmp/s)`);
  }
  const exportName = decodeURIComponent(url.pathname.replace(/^\//, ''));
  switch (url.protocol) {
    case 'nbd:':
    case 'nbd+tcp:': {
      if (!url.hostname) throw new Error(`'${text}': an nbd:// URI needs a host`);
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      return { host, port: url.port ? Number(url.port) : 10809, exportName };
    }
    case 'nbd+unix:': {
      const path = url.searchParams.get('socket');
      if (!path) throw new Error(`'${text}': an nbd+unix:// URI needs ?socket=PATH`);
      return { path, exportName };
    }
    default:
      throw new Error(`'${text}': unsupported scheme ${url.protocol} (nbd:// and nbd+unix:// are supported)`);
  }
}
