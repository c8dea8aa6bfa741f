// Who may talk to the browser UI host: whoever holds the token printed in the URL. The page
// itself carries it in ?token=, its scripts and styles in a cookie set on that first load
// (subresource URLs cannot carry it). On a loopback bind the Host header must name the
// loopback too, so a DNS-rebound name never reaches us; the WebSocket upgrade also needs
// an Origin equal to our own.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

export class Access {
  readonly token: string;
  readonly cookieName: string;
  private readonly loopback: boolean;
  private readonly port: number;

  constructor(token: string, boundHost: string, port: number) {
    this.token = token;
    this.port = port;
    // Cookies are shared by every port of a host: one name per port keeps two hosts apart.
    this.cookieName = `blockscope_token_${port}`;
    this.loopback = boundHost === '127.0.0.1' || boundHost === '::1' || boundHost === 'localhost';
  }

  private matches(candidate: string | null | undefined): boolean {
    if (!candidate) return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** The token from ?token= or our cookie, checked in constant time. */
  hasToken(req: IncomingMessage): boolean {
    const url = new URL(req.url ?? '/', 'http://x');
    return this.matches(url.searchParams.get('token')) || this.matches(cookieValue(req.headers.cookie, this.cookieName));
  }

  /** True when the Host header names this server (any name when bound beyond loopback). */
  hostAllowed(req: IncomingMessage): boolean {
    const host = req.headers.host;
    if (!host) return false;
    if (!this.loopback) return true;
    return LOOPBACK_NAMES.some((name) => host === `${name}:${this.port}`);
  }

  /** The WebSocket's Origin must be the page we served: http://<Host header>. */
  originAllowed(req: IncomingMessage): boolean {
    return req.headers.origin === `http://${req.headers.host}`;
  }

  cookie(): string {
    return `${this.cookieName}=${this.token}; HttpOnly; SameSite=Strict; Path=/`;
  }
}

export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
