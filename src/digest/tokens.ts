import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed links for email: confirm a subscription, open preferences, unsubscribe. No passwords and no
 * token table: a token is `<purpose><id>.<nonce>.<expiry>.<mac>` in base64url pieces, the MAC an
 * HMAC-SHA256 over the rest. Secrets rotate: the first key signs, every key in the list verifies.
 * A subscriber's nonce changes when they ask for a new link (or are removed), which voids every
 * older link at once.
 */
export type TokenPurpose = 'confirm' | 'prefs' | 'unsubscribe';

const PREFIX: Record<TokenPurpose, string> = { confirm: 'c', prefs: 'p', unsubscribe: 'u' };
const TOKEN_RE = /^([cpu])(\d{1,15})\.([A-Za-z0-9_-]{8,32})\.(\d{1,12})\.([A-Za-z0-9_-]{27})$/;

export interface TokenClaims {
  purpose: TokenPurpose;
  subscriberId: number;
  nonce: string;
  /** Seconds since the epoch; 0 = never expires. */
  expires: number;
}

function mac(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url').slice(0, 27);
}

export class Tokens {
  private readonly secrets: readonly string[];

  /** `secrets`: the current signing secret first, then older ones still accepted. */
  constructor(secrets: readonly string[]) {
    if (!secrets.length || secrets.some((s) => s.length < 16)) throw new Error('tokens: need at least one secret of 16+ characters');
    this.secrets = secrets;
  }

  sign(c: TokenClaims): string {
    const body = `${PREFIX[c.purpose]}${c.subscriberId}.${c.nonce}.${c.expires}`;
    return `${body}.${mac(this.secrets[0]!, body)}`;
  }

  /** The claims of a valid, unexpired token of that purpose; null for anything else (never throws). */
  verify(token: unknown, purpose: TokenPurpose, nowMs: number): TokenClaims | null {
    if (typeof token !== 'string' || token.length > 120) return null;
    const m = TOKEN_RE.exec(token);
    if (!m || m[1] !== PREFIX[purpose]) return null;
    const body = token.slice(0, token.lastIndexOf('.'));
    const given = Buffer.from(m[5]!);
    const ok = this.secrets.some((s) => {
      const want = Buffer.from(mac(s, body));
      return want.length === given.length && timingSafeEqual(want, given);
    });
    if (!ok) return null;
    const expires = Number(m[4]);
    if (expires !== 0 && expires * 1000 < nowMs) return null;
    return { purpose, subscriberId: Number(m[2]), nonce: m[3]!, expires };
  }
}
