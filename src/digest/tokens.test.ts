import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { domainBlocked, maskAddress, normaliseAddress } from './address.ts';
import { Tokens } from './tokens.ts';

const NOW = Date.parse('2026-08-22T12:00:00Z');
const A = 'a-secret-of-at-least-16-chars';
const B = 'another-secret-16-chars-long';

test('tokens: signed, purpose-bound, expiring, and verified by any secret in the rotation list', () => {
  const t = new Tokens([A]);
  const claims = { purpose: 'unsubscribe' as const, subscriberId: 42, nonce: 'n0nce-abcd', expires: 0 };
  const token = t.sign(claims);
  assert.match(token, /^u42\.n0nce-abcd\.0\.[A-Za-z0-9_-]{27}$/);
  assert.deepEqual(t.verify(token, 'unsubscribe', NOW), claims);
  // Another purpose, a changed id or nonce, a wrong MAC: refused.
  assert.equal(t.verify(token, 'prefs', NOW), null);
  assert.equal(t.verify(token.replace('u42', 'u43'), 'unsubscribe', NOW), null);
  assert.equal(t.verify(token.replace('n0nce', 'n1nce'), 'unsubscribe', NOW), null);
  assert.equal(t.verify(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, 'unsubscribe', NOW), null);
  // Expiry.
  const confirm = t.sign({ purpose: 'confirm', subscriberId: 1, nonce: 'abcdefgh', expires: NOW / 1000 + 60 });
  assert.ok(t.verify(confirm, 'confirm', NOW));
  assert.equal(t.verify(confirm, 'confirm', NOW + 61_000), null);
  // Rotation: signed with A, verified after rotating to [B, A]; not by [B] alone.
  assert.ok(new Tokens([B, A]).verify(token, 'unsubscribe', NOW));
  assert.equal(new Tokens([B]).verify(token, 'unsubscribe', NOW), null);
  assert.throws(() => new Tokens([]), /at least one secret/);
});

test('property: no string but a token we signed verifies, and verify never throws', () => {
  const t = new Tokens([A]);
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      assert.equal(t.verify(s, 'unsubscribe', NOW), null);
      assert.equal(t.verify(s, 'confirm', NOW), null);
    }),
    { numRuns: 500 },
  );
  for (const x of [null, undefined, 42, {}, ['u1'], 'u1.x.0.y']) assert.equal(t.verify(x, 'unsubscribe', NOW), null);
});

test('addresses: normalised, strictly validated, nothing that can break a header', () => {
  assert.deepEqual(normaliseAddress('  Alice.Smith+papers@Example.ORG '), {
    ok: true,
    address: 'Alice.Smith+papers@example.org',
    key: 'alice.smith+papers@example.org',
    domain: 'example.org',
  });
  assert.equal(normaliseAddress('josé@exämple.de').ok, true);
  for (const bad of ['', 'plain', '@example.org', 'a@', 'a@b', 'a@b.123', 'a b@example.org', 'a@exa mple.org', 'a@example.org\r\nBcc: x@y.z', 'a@example.org>', '"a"@example.org', 'a..b@example.org', `${'a'.repeat(65)}@example.org`, `a@${'b'.repeat(250)}.org`, 'a@-x.org', 'a,b@example.org', 'a@example.org;b@example.org']) {
    assert.equal(normaliseAddress(bad).ok, false, bad);
  }
  assert.equal(normaliseAddress(42).ok, false);
  fc.assert(
    fc.property(fc.string(), (s) => {
      const r = normaliseAddress(s);
      if (r.ok) assert.ok(!/[\r\n\0<>,;"\s]/.test(r.address), JSON.stringify(r.address));
    }),
    { numRuns: 500 },
  );
});

test('blocked domains cover subdomains; masked addresses for logs', () => {
  assert.ok(domainBlocked('mailinator.com', ['mailinator.com']));
  assert.ok(domainBlocked('x.mailinator.com', ['Mailinator.com']));
  assert.ok(!domainBlocked('notmailinator.com', ['mailinator.com']));
  assert.ok(!domainBlocked('example.org', ['', '.']));
  assert.equal(maskAddress('alice@example.org'), 'a***e@example.org');
  assert.equal(maskAddress('al@example.org'), 'a*@example.org');
});
