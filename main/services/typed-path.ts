// What the open field (and a command line) may type for a local image: a path, `~` or `~/x`
// (the engine's home, which the renderer cannot know: in the browser UI it runs on another
// machine), or a file:// URI as file managers and browsers copy them. Expanded here, in the
// engine, into the absolute path every other part of the session compares and remembers.
import path from 'node:path';
import { ServiceError } from './errors.ts';

export interface PathContext {
  /** The engine's home directory (os.homedir()). */
  home: string;
  /** What a relative path is relative to (process.cwd()). */
  cwd: string;
}

const FILE_URI = /^file:/i;

/** The absolute path `typed` names; a URI naming another host, or a malformed one, throws. */
export function resolveTypedPath(text: string, context: PathContext): string {
  if (FILE_URI.test(text)) return path.resolve(fileUriPath(text));
  if (text === '~' || text.startsWith('~/')) return path.resolve(context.home, `.${text.slice(1)}`);
  if (text.startsWith('~')) {
    throw new ServiceError('invalid-input', `${text}: only ~ and ~/… (this engine's home) are expanded, not another user's; type the full path`);
  }
  return path.resolve(context.cwd, text);
}

/**
 * The path of a file:// URI (RFC 8089): `file:///abs`, `file://localhost/abs` or `file:/abs`,
 * percent-decoded as UTF-8; a query or fragment is not part of the file's name.
 */
export function fileUriPath(uri: string): string {
  const rest = uri.replace(FILE_URI, '').replace(/[?#].*$/s, '');
  let encoded: string;
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    const host = rest.slice(2, slash < 0 ? undefined : slash);
    if (host !== '' && host.toLowerCase() !== 'localhost') {
      throw new ServiceError('invalid-input', `${uri}: names the host '${host}'; only local files open (file:///path or file://localhost/path)`);
    }
    encoded = slash < 0 ? '' : rest.slice(slash);
  } else {
    encoded = rest;
  }
  if (!encoded.startsWith('/')) throw new ServiceError('invalid-input', `${uri}: a file:// URI needs an absolute path (file:///path/to/image)`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded);
  } catch {
    throw new ServiceError('invalid-input', `${uri}: malformed percent-encoding (each % starts two hex digits of UTF-8)`);
  }
  if (decoded.includes('\0')) throw new ServiceError('invalid-input', `${uri}: a path cannot contain a NUL byte (%00)`);
  return decoded;
}

