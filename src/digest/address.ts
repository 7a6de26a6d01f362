/**
 * Email addresses as people type them: trimmed, the domain lower-cased (and IDN domains kept in
 * Unicode), the local part kept as typed (it is case-sensitive in principle; providers ignore case,
 * so uniqueness is checked on the lower-cased form). Deliberately stricter than RFC 5321 where the
 * RFC allows what no mailbox uses: no quoted local parts, no IP literals, no comments, and nothing
 * that could break a mail header (CR, LF, NUL, `<`, `>`, `,`, `;`, quotes, spaces).
 */
const LOCAL_RE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u00A0-\uFFFF-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u00A0-\uFFFF-]+)*$/u;
const LABEL_RE = /^(?!-)[\p{L}\p{N}-]{1,63}(?<!-)$/u;

export interface AddressCheck {
  ok: boolean;
  /** The address as stored. */
  address: string;
  /** Lower-cased: the key for uniqueness, suppression and blocked domains. */
  key: string;
  domain: string;
  reason?: string;
}

export function normaliseAddress(input: unknown): AddressCheck {
  const bad = (reason: string): AddressCheck => ({ ok: false, address: '', key: '', domain: '', reason });
  if (typeof input !== 'string') return bad('an email address is required');
  const s = input.trim().normalize('NFC');
  if (!s) return bad('an email address is required');
  if (s.length > 254) return bad('that address is too long');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\s<>,;:"()[\]\\\u0000-\u001F\u007F]/u.test(s)) return bad('that does not look like an email address');
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1) return bad('that does not look like an email address');
  const local = s.slice(0, at);
  const domain = s.slice(at + 1).toLowerCase().replace(/\.$/, '');
  if (local.length > 64 || !LOCAL_RE.test(local)) return bad('that does not look like an email address');
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL_RE.test(l)) || /^\d+$/.test(labels.at(-1)!)) return bad('that does not look like an email address');
  const address = `${local}@${domain}`;
  return { ok: true, address, key: address.toLowerCase(), domain };
}

/** True when the domain or one of its parents is in the blocked list (`example.com` blocks `mail.example.com`). */
export function domainBlocked(domain: string, blocked: readonly string[]): boolean {
  const d = domain.toLowerCase();
  return blocked.some((b) => {
    const x = b.toLowerCase().replace(/^\.+|\.+$/g, '');
    return x.length > 0 && (d === x || d.endsWith(`.${x}`));
  });
}

/** `alice@example.com` → `a***e@example.com`: for logs, which must never hold full addresses. */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return '***';
  const local = address.slice(0, at);
  const shown = local.length <= 2 ? `${local[0] ?? ''}*` : `${local[0]}***${local.at(-1)}`;
  return `${shown}@${address.slice(at + 1)}`;
}
