import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Anonymous visitors and CSRF, with no server-side session store.
 *
 * A visitor is a random id in a signed cookie (`pb_v=<id>.<mac>`, HMAC-SHA256 with SECRET_KEY):
 * enough to allow one vote per person per paper without accounts. Every form carries a CSRF token
 * derived from the visitor id (HMAC again, another purpose), and every POST must present it —
 * in the `_csrf` field or the `x-csrf-token` header — together with the cookie it was made for.
 */
export const VISITOR_COOKIE = 'pb_v';
const ID_RE = /^[A-Za-z0-9_-]{22}$/;
const YEAR_S = 365 * 86_400;

function mac(secret: string, purpose: string, value: string): string {
  return createHmac('sha256', secret).update(`${purpose}:${value}`).digest('base64url').slice(0, 32);
}

/** Constant-time string comparison (secrets, MACs, tokens). */
export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Cookie header → name/value pairs (first occurrence wins; values are not decoded beyond %XX). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || out.has(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      out.set(name, decodeURIComponent(value));
    } catch {
      out.set(name, value);
    }
  }
  return out;
}

export class Sessions {
  constructor(
    private readonly secret: string,
    private readonly secure: boolean,
  ) {}

  /** The visitor id from a valid cookie, or null. */
  visitor(req: FastifyRequest): string | null {
    const raw = parseCookies(req.headers.cookie).get(VISITOR_COOKIE);
    if (!raw) return null;
    const dot = raw.indexOf('.');
    const id = raw.slice(0, dot);
    if (dot < 0 || !ID_RE.test(id)) return null;
    return sameString(raw.slice(dot + 1), mac(this.secret, 'visitor', id)) ? id : null;
  }

  /** The visitor id, minting one (and setting the cookie) for a first-time visitor. */
  ensureVisitor(req: FastifyRequest, reply: FastifyReply): string {
    const known = this.visitor(req);
    if (known) return known;
    const id = randomBytes(16).toString('base64url');
    const attrs = ['Path=/', `Max-Age=${YEAR_S}`, 'HttpOnly', 'SameSite=Lax', ...(this.secure ? ['Secure'] : [])];
    reply.header('set-cookie', `${VISITOR_COOKIE}=${id}.${mac(this.secret, 'visitor', id)}; ${attrs.join('; ')}`);
    // Later reads in this request see the new visitor too.
    req.headers.cookie = `${VISITOR_COOKIE}=${id}.${mac(this.secret, 'visitor', id)}${req.headers.cookie ? `; ${req.headers.cookie}` : ''}`;
    return id;
  }

  csrfToken(visitor: string): string {
    return mac(this.secret, 'csrf', visitor);
  }

  /** True when the request carries the visitor cookie and the CSRF token made for it. */
  checkCsrf(req: FastifyRequest): boolean {
    const visitor = this.visitor(req);
    if (!visitor) return false;
    const body = req.body as Record<string, unknown> | undefined;
    const header = req.headers['x-csrf-token'];
    const token = typeof header === 'string' ? header : typeof body?.['_csrf'] === 'string' ? (body['_csrf'] as string) : '';
    return token.length > 0 && sameString(token, this.csrfToken(visitor));
  }
}
