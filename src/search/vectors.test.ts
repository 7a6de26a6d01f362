import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeInt8,
  decodeVector,
  dequantizeInt8,
  encodedSize,
  encodeVector,
  FloatIndex,
  fromFloat16Bits,
  l2normalize,
  quantizeInt8,
  toFloat16Bits,
  VECTOR_ENCODINGS,
  VectorIndex,
  type SearchHit,
} from './vectors.ts';

// ---------------------------------------------------------------- data

/** mulberry32: a small seeded PRNG so every run sees the same data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function randomUnit(rand: () => number, dims: number): Float32Array {
  const v = new Float32Array(dims);
  for (let i = 0; i < dims; i++) v[i] = gaussian(rand);
  return l2normalize(v);
}

/**
 * Unit vectors in `clusters` tight groups around random centres, with a shared
 * offset (real embeddings are anisotropic: all of them lean one way), so
 * neighbours have close scores, the hard case for quantisation.
 */
function clustered(seed: number, n: number, dims: number, clusters: number): Float32Array[] {
  const rand = rng(seed);
  const common = randomUnit(rand, dims);
  const centres = Array.from({ length: clusters }, () => {
    const c = randomUnit(rand, dims);
    for (let i = 0; i < dims; i++) c[i] = (c[i] as number) + 0.8 * (common[i] as number);
    return l2normalize(c);
  });
  return Array.from({ length: n }, () => {
    const c = centres[Math.floor(rand() * clusters)] as Float32Array;
    const v = new Float32Array(dims);
    for (let i = 0; i < dims; i++) v[i] = (c[i] as number) + (0.6 / Math.sqrt(dims)) * gaussian(rand);
    return l2normalize(v);
  });
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Brute-force reference: every id scored in float64, best first. */
function bruteForce(vectors: Map<number, Float32Array>, query: Float32Array, k: number, filter?: (id: number) => boolean): SearchHit[] {
  const all: SearchHit[] = [];
  for (const [id, v] of vectors) if (!filter || filter(id)) all.push({ id, score: dot(query, v) });
  return all.sort((a, b) => b.score - a.score || a.id - b.id).slice(0, k);
}

const BACKENDS = ['wasm', 'js'] as const;

// ---------------------------------------------------------------- quantisation and encoding

test('l2normalize makes unit vectors and leaves zero vectors alone', () => {
  const v = l2normalize(new Float32Array([3, 4]));
  assert.ok(Math.abs((v[0] as number) - 0.6) < 1e-7 && Math.abs((v[1] as number) - 0.8) < 1e-7);
  assert.deepEqual([...l2normalize(new Float32Array(3))], [0, 0, 0]);
});

test('int8 round trip is within half a step per component', () => {
  fc.assert(
    fc.property(fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 300 }), (values) => {
      const v = Float32Array.from(values);
      const { q, scale } = quantizeInt8(v);
      const back = dequantizeInt8(q, scale);
      const max = Math.max(...values.map(Math.abs));
      // scale is max / 127 rounded to float32.
      assert.ok(scale >= 0 && Math.abs(scale - max / 127) <= (max / 127) * 2 ** -23 + 2 ** -149);
      for (let i = 0; i < v.length; i++) {
        assert.ok(Math.abs((q[i] as number)) <= 127);
        assert.ok(Math.abs((v[i] as number) - (back[i] as number)) <= scale / 2 + 1e-7, `component ${i}`);
      }
    }),
  );
});

test('int8 keeps the extremes exactly and quantises a zero vector to scale 0', () => {
  const { q, scale } = quantizeInt8(new Float32Array([0.5, -0.25, 0]));
  assert.deepEqual([...q], [127, -64, 0]);
  assert.equal(scale, Math.fround(0.5 / 127));
  assert.deepEqual(quantizeInt8(new Float32Array(4)).scale, 0);
  assert.throws(() => quantizeInt8(new Float32Array([1, Infinity])), /non-finite/);
});

test('float16 conversion: exact values, specials, and relative error at most 2^-11', () => {
  // Values a half represents exactly come back unchanged.
  for (const x of [0, 1, -2, 0.5, 1.5, 65504, 2 ** -14, 2 ** -24, -(2 ** -20), 0.0999755859375]) {
    assert.equal(fromFloat16Bits(toFloat16Bits(x)), x);
  }
  assert.equal(fromFloat16Bits(toFloat16Bits(1)), 1);
  assert.equal(fromFloat16Bits(toFloat16Bits(65504)), 65504);
  assert.equal(fromFloat16Bits(toFloat16Bits(2 ** -24)), 2 ** -24);
  assert.equal(fromFloat16Bits(toFloat16Bits(1e6)), Infinity);
  assert.equal(fromFloat16Bits(toFloat16Bits(-Infinity)), -Infinity);
  assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN))));
  assert.equal(toFloat16Bits(2 ** -26), 0, 'underflow to zero');
  assert.equal(toFloat16Bits(1 + 2 ** -11), toFloat16Bits(1), 'ties round to even');
  assert.equal(toFloat16Bits(65520), 0x7c00, 'rounds up to infinity past the largest half');
  fc.assert(
    fc.property(fc.float({ min: -60000, max: 60000, noNaN: true }), (x) => {
      const back = fromFloat16Bits(toFloat16Bits(x));
      assert.ok(Math.abs(back - x) <= Math.max(Math.abs(x) * 2 ** -11, 2 ** -25), `${x} -> ${back}`);
    }),
  );
});

test('every half-precision bit pattern survives a round trip', () => {
  for (let h = 0; h < 0x10000; h++) {
    const x = fromFloat16Bits(h);
    if (Number.isNaN(x)) continue;
    assert.equal(toFloat16Bits(x), h, `0x${h.toString(16)}`);
  }
});

test('encodeVector / decodeVector round-trip every encoding within its precision', () => {
  const rand = rng(7);
  for (const dims of [1, 7, 384]) {
    const v = randomUnit(rand, dims);
    for (const encoding of VECTOR_ENCODINGS) {
      const buf = encodeVector(v, encoding);
      assert.equal(buf.byteLength, encodedSize(encoding, dims));
      const back = decodeVector(buf, encoding, dims);
      const tolerance = encoding === 'f32' ? 0 : encoding === 'f16' ? 2 ** -11 : 1 / 254 + 1e-6;
      for (let i = 0; i < dims; i++) assert.ok(Math.abs((back[i] as number) - (v[i] as number)) <= tolerance, `${encoding} ${dims} [${i}]`);
      // From a copy at an odd offset, as a BLOB can arrive inside a larger buffer.
      const padded = Buffer.concat([Buffer.from([1, 2, 3]), buf]).subarray(3);
      assert.deepEqual(decodeVector(padded, encoding, dims), back);
    }
  }
});

test('decodeInt8 returns the quantised vector itself, and sizes are checked', () => {
  const v = randomUnit(rng(3), 10);
  const { q, scale } = quantizeInt8(v);
  const decoded = decodeInt8(encodeVector(v, 'int8'), 10);
  assert.deepEqual([...decoded.q], [...q]);
  assert.equal(decoded.scale, scale);
  assert.throws(() => decodeVector(Buffer.alloc(13), 'int8', 10), /int8 vector of 10 dims must be 14 bytes, got 13/);
  assert.throws(() => decodeVector(Buffer.alloc(8), 'f32', 10), /must be 40 bytes/);
});

// ---------------------------------------------------------------- search

for (const backend of BACKENDS) {
  test(`FloatIndex (${backend}) search equals the brute-force reference, with and without a filter`, () => {
    // dims 46: not a multiple of 4, so the padding is exercised; capacity 16 makes it grow.
    const vectors = clustered(11, 700, 46, 12);
    const index = new FloatIndex(46, { capacity: 16, backend });
    assert.equal(index.backend, backend);
    const byId = new Map<number, Float32Array>();
    vectors.forEach((v, i) => {
      index.add(i * 3 + 1, v);
      byId.set(i * 3 + 1, v);
    });
    // Removing moves the last slot into the hole: results must not change otherwise.
    for (const id of [4, 301, 2098]) {
      assert.ok(index.remove(id));
      byId.delete(id);
    }
    assert.deepEqual([...index.get(7)!], [...byId.get(7)!]);
    const queries = clustered(12, 20, 46, 12);
    for (const q of queries) {
      assertSameHits(index.search(q, 10), bruteForce(byId, q, 10), 1e-5);
      const odd = (id: number): boolean => id % 2 === 1;
      assertSameHits(index.search(q, 7, odd), bruteForce(byId, q, 7, odd), 1e-5);
    }
  });
}

function assertSameHits(got: SearchHit[], want: SearchHit[], tolerance: number): void {
  assert.deepEqual(got.map((h) => h.id), want.map((h) => h.id));
  got.forEach((h, i) => assert.ok(Math.abs(h.score - (want[i] as SearchHit).score) <= tolerance));
}

for (const backend of BACKENDS) {
  test(`VectorIndex (${backend}) returns the exact top k of its own int8 vectors`, () => {
    // dims 40: not a multiple of 16, so the padding is exercised too.
    const dims = 40;
    const vectors = clustered(21, 900, dims, 15);
    const index = new VectorIndex(dims, { backend, capacity: 16 });
    assert.equal(index.backend, backend);
    const stored = new Map<number, Float32Array>();
    vectors.forEach((v, i) => {
      index.add(1000 + i, v);
      stored.set(1000 + i, index.get(1000 + i) as Float32Array);
    });
    assert.equal(index.size, 900);
    for (const q of clustered(22, 25, dims, 15)) {
      const got = index.search(q, 10);
      assert.equal(got.length, 10);
      // Scores are the dot products with the dequantised vectors (the query is kept at high precision)...
      for (const h of got) assert.ok(Math.abs(h.score - dot(q, stored.get(h.id) as Float32Array)) < 1e-3, `score of ${h.id}`);
      for (let i = 1; i < got.length; i++) assert.ok((got[i - 1] as SearchHit).score >= (got[i] as SearchHit).score);
      // ...and nothing left out scores better than the last hit returned.
      const ref = bruteForce(stored, q, 10);
      const last = (got[9] as SearchHit).score;
      for (const r of ref) assert.ok(got.some((h) => h.id === r.id) || r.score <= last + 1e-3, `missed ${r.id}`);
    }
  });

  test(`VectorIndex (${backend}) recall@10 against exact float32 is at least 0.98 on 5k clustered 384-dim vectors`, () => {
    const dims = 384;
    const vectors = clustered(31, 5000, dims, 40);
    const int8 = new VectorIndex(dims, { backend });
    const exact = new FloatIndex(dims);
    vectors.forEach((v, i) => {
      int8.add(i, v);
      exact.add(i, v);
    });
    const queries = clustered(32, 200, dims, 40);
    let found = 0;
    for (const q of queries) {
      const truth = new Set(exact.search(q, 10).map((h) => h.id));
      for (const h of int8.search(q, 10)) if (truth.has(h.id)) found++;
    }
    const recall = found / (queries.length * 10);
    assert.ok(recall >= 0.98, `recall@10 = ${recall}`);
  });

  test(`VectorIndex (${backend}) filter: only accepted ids, consulted only for contenders`, () => {
    const dims = 64;
    const vectors = clustered(41, 2000, dims, 20);
    const index = new VectorIndex(dims, { backend });
    const stored = new Map<number, Float32Array>();
    vectors.forEach((v, i) => {
      index.add(i, v);
      stored.set(i, index.get(i) as Float32Array);
    });
    const q = clustered(42, 1, dims, 20)[0] as Float32Array;
    let calls = 0;
    const multipleOf7 = (id: number): boolean => {
      calls++;
      return id % 7 === 0;
    };
    const got = index.search(q, 5, multipleOf7);
    assert.equal(got.length, 5);
    assert.ok(got.every((h) => h.id % 7 === 0));
    assert.deepEqual(got.map((h) => h.id), bruteForce(stored, q, 5, (id) => id % 7 === 0).map((h) => h.id));
    assert.ok(calls < 2000, `filter called ${calls} times for 2000 vectors`);
    assert.deepEqual(index.search(q, 5, () => false), []);
  });

  test(`VectorIndex (${backend}) add replaces, remove forgets, and both stay consistent with a model`, () => {
    const dims = 24;
    const pool = clustered(51, 64, dims, 6);
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), id: fc.integer({ min: 0, max: 40 }), v: fc.integer({ min: 0, max: 63 }) }),
      fc.record({ kind: fc.constant('remove' as const), id: fc.integer({ min: 0, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.integer({ min: 0, max: 63 }), (ops, qi) => {
        const index = new VectorIndex(dims, { backend, capacity: 16 });
        const model = new Map<number, Float32Array>();
        for (const o of ops) {
          if (o.kind === 'add') {
            index.add(o.id, pool[o.v] as Float32Array);
            model.set(o.id, pool[o.v] as Float32Array);
          } else {
            assert.equal(index.remove(o.id), model.delete(o.id));
          }
        }
        assert.equal(index.size, model.size);
        for (let id = 0; id <= 40; id++) assert.equal(index.has(id), model.has(id));
        assert.deepEqual([...index.keys()].sort((a, b) => a - b), [...model.keys()].sort((a, b) => a - b));
        // Asking for everything returns every live id exactly once.
        const all = index.search(pool[qi] as Float32Array, 100);
        assert.deepEqual(all.map((h) => h.id).sort((a, b) => a - b), [...model.keys()].sort((a, b) => a - b));
        for (const [id, v] of model) {
          const back = index.get(id) as Float32Array;
          for (let i = 0; i < dims; i++) assert.ok(Math.abs((back[i] as number) - (v[i] as number)) <= 1 / 254 + 1e-6);
        }
      }),
      { numRuns: 60 },
    );
  });

  test(`VectorIndex (${backend}) grows from a small capacity and keeps every vector`, () => {
    const dims = 384;
    const vectors = clustered(61, 3000, dims, 30);
    const index = new VectorIndex(dims, { backend, capacity: 16 });
    vectors.forEach((v, i) => index.add(i, v));
    for (const i of [0, 1, 15, 16, 17, 1023, 1024, 2999]) {
      const [hit] = index.search(vectors[i] as Float32Array, 1, (id) => id === i);
      assert.equal(hit?.id, i);
      assert.ok(Math.abs((hit?.score ?? 0) - 1) < 0.01, `self-similarity of ${i}: ${hit?.score}`);
    }
  });
}

test('the wasm and js backends agree', () => {
  const dims = 96;
  const vectors = clustered(71, 1500, dims, 10);
  const a = new VectorIndex(dims, { backend: 'wasm' });
  const b = new VectorIndex(dims, { backend: 'js' });
  vectors.forEach((v, i) => {
    a.add(i, v);
    b.add(i, v);
  });
  for (const q of clustered(72, 10, dims, 10)) {
    const x = a.search(q, 20);
    const y = b.search(q, 20);
    x.forEach((h, i) => assert.ok(Math.abs(h.score - (y[i] as SearchHit).score) < 1e-3));
    const overlap = x.filter((h) => y.some((g) => g.id === h.id)).length;
    assert.ok(overlap >= 19, `overlap ${overlap}/20`);
  }
});

test('addQuantized from a stored BLOB equals add', () => {
  const dims = 32;
  const v = randomUnit(rng(81), dims);
  const a = new VectorIndex(dims);
  const b = new VectorIndex(dims);
  a.add(5, v);
  const { q, scale } = decodeInt8(encodeVector(v, 'int8'), dims);
  b.addQuantized(5, q, scale);
  assert.deepEqual(a.get(5), b.get(5));
  assert.deepEqual(a.search(v, 1), b.search(v, 1));
});

test('edge cases: empty index, k = 0, k beyond size, wrong dimensions, bad ids', () => {
  for (const index of [new VectorIndex(8), new FloatIndex(8)]) {
    const v = l2normalize(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]));
    assert.deepEqual(index.search(v, 5), []);
    index.add(1, v);
    index.add(2, l2normalize(new Float32Array([8, 7, 6, 5, 4, 3, 2, 1])));
    assert.deepEqual(index.search(v, 0), []);
    assert.deepEqual(index.search(v, 10).map((h) => h.id), [1, 2]);
    assert.throws(() => index.search(new Float32Array(7), 1), /query has 7 dimensions, index has 8/);
    assert.throws(() => index.add(3, new Float32Array(9)), /vector has 9 dimensions, index has 8/);
    assert.throws(() => index.add(1.5, v), /safe integer/);
    assert.equal(index.remove(99), false);
    assert.equal(index.remove(1), true);
    assert.deepEqual(index.search(v, 10).map((h) => h.id), [2]);
  }
  assert.throws(() => new VectorIndex(0), /dims must be a positive integer/);
});
