import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_WEIGHTS, decayedPoints, growth, hotness, parseWeights, points } from './score.ts';

const H = 3_600_000;
const none = { votes: 0, upvotes: 0, comments: 0, stars: 0, starGrowth: 0 };

test('points add up the weighted activity; junk counts as nothing', () => {
  assert.equal(points(none), 0);
  assert.equal(points({ ...none, votes: 3 }), 6);
  assert.equal(points({ ...none, upvotes: 10, comments: 4 }), 12);
  assert.equal(points({ ...none, stars: 1023 }), 0.5 * 10);
  assert.equal(points({ ...none, starGrowth: 50 }), 5);
  assert.equal(points({ votes: -5, upvotes: Number.NaN, comments: Infinity, stars: -1, starGrowth: Number.NaN }), 0);
});

test('hotness: a paper one half-life older needs (1 + points) doubled to rank level', () => {
  const t = Date.parse('2026-08-01T00:00:00Z');
  const w = DEFAULT_WEIGHTS.halfLifeHours;
  assert.ok(Math.abs(hotness(9, t, w) - hotness(19, t - w * H, w)) < 1e-9);
  // More points or a later date always rank higher.
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 1e6 }), (a, b, hours) => {
      const x = hotness(Math.min(a, b), t, w);
      const y = hotness(Math.max(a, b), t, w);
      assert.ok(y >= x);
      assert.ok(hotness(a, t + hours * H, w) >= hotness(a, t, w));
    }),
  );
});

test('decayed points: full value at the trending date, halved (plus one) each half-life', () => {
  const t = Date.parse('2026-08-01T00:00:00Z');
  const hot = hotness(99, t, 24);
  assert.ok(Math.abs(decayedPoints(hot, t, 24) - 99) < 1e-6);
  assert.ok(Math.abs(decayedPoints(hot, t + 24 * H, 24) - 49) < 1e-6);
  assert.ok(decayedPoints(hot, t + 90 * 24 * H, 24) < 1e-9);
});

test('growth over the last 7 days of observations, whatever their order', () => {
  assert.deepEqual(growth([]), { latest: 0, growth: 0 });
  assert.deepEqual(growth([{ value: 10, at: '2026-08-01' }]), { latest: 10, growth: 0 });
  const obs = [
    { value: 300, at: '2026-08-10' },
    { value: 100, at: '2026-08-01' },
    { value: 120, at: '2026-08-03' },
    { value: 250, at: '2026-08-08' },
  ];
  // The oldest observation within 7 days of the latest (2026-08-03: 120) is the base.
  assert.deepEqual(growth(obs), { latest: 300, growth: 180 });
  // Stars going down is no growth.
  assert.deepEqual(growth([{ value: 10, at: '2026-08-01' }, { value: 5, at: '2026-08-02' }]), { latest: 5, growth: 0 });
});

test('weights from the environment: names, aliases, defaults kept, clear errors', () => {
  assert.deepEqual(parseWeights(undefined), { ...DEFAULT_WEIGHTS });
  const w = parseWeights('vote=3, upvotes=0.5,star_growth=1');
  assert.equal(w.vote, 3);
  assert.equal(w.upvote, 0.5);
  assert.equal(w.starGrowth, 1);
  assert.equal(w.comment, DEFAULT_WEIGHTS.comment);
  assert.throws(() => parseWeights('likes=2'), /expected name=number/);
  assert.throws(() => parseWeights('vote=-1'), /expected name=number/);
  assert.throws(() => parseWeights('vote'), /expected name=number/);
});
