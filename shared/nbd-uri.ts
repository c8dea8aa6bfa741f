// What counts as an NBD URI (nbd://, nbds://, nbd+unix://, nbds+unix://, nbd+tcp://), decided
// once for the open field, the IPC schema and the CLI. Parsing (main/nbd/uri.ts) then says
// which of these it can connect to.
export const NBD_URI_PATTERN = /^nbds?(\+unix|\+tcp)?:\/\//;

export function isNbdUri(text: string): boolean {
  return NBD_URI_PATTERN.test(text);
}

/** A host as it appears in a URI: IPv6 addresses in brackets (nbd://[::1]:10809/, http://[::1]/). */
export function uriHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
