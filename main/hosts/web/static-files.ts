// The renderer build served read-only from one folder: no directory listings, nothing
// outside the folder, a strict Content-Security-Policy on the page.
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/**
 * Scripts only from our own files; styles may be inline because React and uPlot set
 * element styles; the WebSocket back to us is the only connection the page may open.
 */
export function contentSecurityPolicy(wsOrigin?: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    wsOrigin ? `connect-src 'self' ${wsOrigin}` : "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

export const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  // The page URL holds the token: never send it anywhere.
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};

/** Resolve a URL path inside `root`, or null when it would leave it. */
export function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const file = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

/** The MIME type a renderer file is served with. */
export function contentTypeOf(file: string): string {
  return TYPES[path.extname(file)] ?? 'application/octet-stream';
}

export async function sendStatic(res: ServerResponse, root: string, urlPath: string, extraHeaders: Record<string, string>): Promise<void> {
  const file = resolveInside(root, urlPath === '/' ? '/index.html' : urlPath);
  const body = file ? await readFile(file).catch(() => null) : null;
  if (!file || !body) {
    res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  const type = contentTypeOf(file);
  const html = type.startsWith('text/html');
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    ...(html ? extraHeaders : {}),
    'Content-Type': type,
    'Cache-Control': html ? 'no-store' : 'private, max-age=3600',
  });
  res.end(body);
}
