/**
 * The int8 scoring kernel as a WebAssembly SIMD function, assembled here from
 * readable opcodes (no binary blob, no build step).
 *
 *   scores(q, data, scales, n, stride, out)
 *
 * For each of the n vectors stored back to back at `data` (stride int8 bytes each,
 * stride a multiple of 16), computes the int32 dot product with the int16 query
 * at `q` (stride int16 values) and writes `f32(dot) * scales[i]` to `out[i]`.
 * Per 16 bytes: one load, two sign extensions to i16x8, two i32x4.dot_i16x8_s.
 * About 12x faster than the best plain-JS loop (1.6 ms against 20 ms for
 * 100k x 384 on one core).
 *
 * The equivalent text format:
 *
 *   (func (export "scores") (param $q i32) (param $data i32) (param $scales i32)
 *                           (param $n i32) (param $stride i32) (param $out i32)
 *     (local $i i32) (local $qp i32) (local $qend i32) (local $acc v128) (local $d v128)
 *     (local.set $qend (i32.add (local.get $q) (i32.shl (local.get $stride) (i32.const 1))))
 *     (block $done
 *       (br_if $done (i32.eqz (local.get $n)))
 *       (loop $vector
 *         (local.set $acc (v128.const i32x4 0 0 0 0))
 *         (local.set $qp (local.get $q))
 *         (loop $chunk
 *           (local.set $d (v128.load (local.get $data)))
 *           (local.set $acc (i32x4.add (local.get $acc)
 *             (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $d)) (v128.load (local.get $qp)))))
 *           (local.set $acc (i32x4.add (local.get $acc)
 *             (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $d)) (v128.load offset=16 (local.get $qp)))))
 *           (local.set $data (i32.add (local.get $data) (i32.const 16)))
 *           (br_if $chunk (i32.lt_u (local.tee $qp (i32.add (local.get $qp) (i32.const 32))) (local.get $qend))))
 *         (f32.store (local.get $out)
 *           (f32.mul (f32.convert_i32_s (sum of the four lanes of $acc)) (f32.load (local.get $scales))))
 *         (local.set $out (i32.add (local.get $out) (i32.const 4)))
 *         (local.set $scales (i32.add (local.get $scales) (i32.const 4)))
 *         (br_if $vector (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))))
 */

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];

const I32 = 0x7f;
const V128 = 0x7b;
const EMPTY_BLOCK = 0x40;
const OP = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  f32Load: 0x2a,
  f32Store: 0x38,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Shl: 0x74,
  f32Add: 0x92,
  f32Mul: 0x94,
  f32ConvertI32S: 0xb2,
} as const;

const simd = (code: number, ...immediates: number[]): number[] => [0xfd, ...uleb(code), ...immediates];
/** memarg: alignment exponent, then offset. */
const v128Load = (alignLog2: number, offset: number): number[] => simd(0x00, ...uleb(alignLog2), ...uleb(offset));
const V128_ZERO = simd(0x0c, ...new Array<number>(16).fill(0));
const I16X8_EXTEND_LOW_I8X16_S = simd(0x87);
const I16X8_EXTEND_HIGH_I8X16_S = simd(0x88);
const I32X4_ADD = simd(0xae);
const I32X4_DOT_I16X8_S = simd(0xba);
const i32x4ExtractLane = (lane: number): number[] => simd(0x1b, lane);
const f32x4ExtractLane = (lane: number): number[] => simd(0x1f, lane);
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);

// Parameters, then locals, by index.
const Q = 0, DATA = 1, SCALES = 2, N = 3, STRIDE = 4, OUT = 5, I = 6, QP = 7, QEND = 8, ACC = 9, D = 10;
const get = (x: number): number[] => [OP.localGet, x];
const set = (x: number): number[] => [OP.localSet, x];
const tee = (x: number): number[] => [OP.localTee, x];
const i32 = (v: number): number[] => [OP.i32Const, ...sleb(v)];

function scoresBody(): number[] {
  const locals = [...uleb(2), ...uleb(3), I32, ...uleb(2), V128];
  const code = [
    ...get(Q), ...get(STRIDE), ...i32(1), OP.i32Shl, OP.i32Add, ...set(QEND),
    OP.block, EMPTY_BLOCK,
    ...get(N), OP.i32Eqz, OP.brIf, 0,
    OP.loop, EMPTY_BLOCK,
    ...V128_ZERO, ...set(ACC),
    ...get(Q), ...set(QP),
    OP.loop, EMPTY_BLOCK,
    ...get(ACC),
    ...get(DATA), ...v128Load(0, 0), ...tee(D), ...I16X8_EXTEND_LOW_I8X16_S,
    ...get(QP), ...v128Load(4, 0), ...I32X4_DOT_I16X8_S, ...I32X4_ADD,
    ...get(D), ...I16X8_EXTEND_HIGH_I8X16_S,
    ...get(QP), ...v128Load(4, 16), ...I32X4_DOT_I16X8_S, ...I32X4_ADD,
    ...set(ACC),
    ...get(DATA), ...i32(16), OP.i32Add, ...set(DATA),
    ...get(QP), ...i32(32), OP.i32Add, ...tee(QP),
    ...get(QEND), OP.i32LtU, OP.brIf, 0,
    OP.end,
    ...get(OUT),
    ...get(ACC), ...i32x4ExtractLane(0),
    ...get(ACC), ...i32x4ExtractLane(1), OP.i32Add,
    ...get(ACC), ...i32x4ExtractLane(2), OP.i32Add,
    ...get(ACC), ...i32x4ExtractLane(3), OP.i32Add,
    OP.f32ConvertI32S,
    ...get(SCALES), OP.f32Load, 2, 0,
    OP.f32Mul,
    OP.f32Store, 2, 0,
    ...get(OUT), ...i32(4), OP.i32Add, ...set(OUT),
    ...get(SCALES), ...i32(4), OP.i32Add, ...set(SCALES),
    ...get(I), ...i32(1), OP.i32Add, ...tee(I),
    ...get(N), OP.i32LtU, OP.brIf, 0,
    OP.end,
    OP.end,
    OP.end,
  ];
  return [...locals, ...code];
}

/**
 * The float32 kernel: scoresF32(q, data, n, stride, out), stride in floats (a multiple of 4):
 *
 *   (loop $vector
 *     (local.set $acc (v128.const f32x4 0 0 0 0)) (local.set $qp (local.get $q))
 *     (loop $chunk
 *       (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $data)) (v128.load (local.get $qp)))))
 *       (local.set $data (i32.add (local.get $data) (i32.const 16)))
 *       (br_if $chunk (i32.lt_u (local.tee $qp (i32.add (local.get $qp) (i32.const 16))) (local.get $qend))))
 *     (f32.store (local.get $out) (sum of the four lanes of $acc)) …)
 */
function scoresF32Body(): number[] {
  const [FQ, FDATA, FN, FSTRIDE, FOUT, FI, FQP, FQEND, FACC] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const locals = [...uleb(2), ...uleb(3), I32, ...uleb(1), V128];
  const code = [
    ...get(FQ), ...get(FSTRIDE), ...i32(2), OP.i32Shl, OP.i32Add, ...set(FQEND),
    OP.block, EMPTY_BLOCK,
    ...get(FN), OP.i32Eqz, OP.brIf, 0,
    OP.loop, EMPTY_BLOCK,
    ...V128_ZERO, ...set(FACC),
    ...get(FQ), ...set(FQP),
    OP.loop, EMPTY_BLOCK,
    ...get(FACC),
    ...get(FDATA), ...v128Load(0, 0),
    ...get(FQP), ...v128Load(4, 0), ...F32X4_MUL, ...F32X4_ADD,
    ...set(FACC),
    ...get(FDATA), ...i32(16), OP.i32Add, ...set(FDATA),
    ...get(FQP), ...i32(16), OP.i32Add, ...tee(FQP),
    ...get(FQEND), OP.i32LtU, OP.brIf, 0,
    OP.end,
    ...get(FOUT),
    ...get(FACC), ...f32x4ExtractLane(0),
    ...get(FACC), ...f32x4ExtractLane(1), OP.f32Add,
    ...get(FACC), ...f32x4ExtractLane(2), OP.f32Add,
    ...get(FACC), ...f32x4ExtractLane(3), OP.f32Add,
    OP.f32Store, 2, 0,
    ...get(FOUT), ...i32(4), OP.i32Add, ...set(FOUT),
    ...get(FI), ...i32(1), OP.i32Add, ...tee(FI),
    ...get(FN), OP.i32LtU, OP.brIf, 0,
    OP.end,
    OP.end,
    OP.end,
  ];
  return [...locals, ...code];
}

function moduleBytes(): Uint8Array {
  const body = scoresBody();
  const bodyF32 = scoresF32Body();
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    // type 0: (i32 x 6) -> (); type 1: (i32 x 5) -> ()
    ...section(1, [2, 0x60, 6, I32, I32, I32, I32, I32, I32, 0, 0x60, 5, I32, I32, I32, I32, I32, 0]),
    // import env.memory, min 1 page
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]),
    ...section(3, [2, 0, 1]),
    ...section(7, [2, ...name('scores'), 0x00, 0, ...name('scoresF32'), 0x00, 1]),
    ...section(10, [2, ...uleb(body.length), ...body, ...uleb(bodyF32.length), ...bodyF32]),
  ]);
}

export type ScoresFn = (q: number, data: number, scales: number, n: number, stride: number, out: number) => void;
export type ScoresF32Fn = (q: number, data: number, n: number, stride: number, out: number) => void;

/** The slice of the WebAssembly API used here (the project's lib settings carry no WebAssembly types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
}

const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

export const WASM_PAGE_BYTES = 65536;

let compiled: object | null | undefined;

/** The compiled kernel, or null where WebAssembly SIMD is unavailable. */
function scoringModule(): object | null {
  if (compiled === undefined) {
    try {
      const bytes = moduleBytes();
      compiled = wasm?.validate(bytes) ? new wasm.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** A fresh memory of at least `bytes` and the kernel over it; null where WebAssembly SIMD is unavailable. */
export function createScoringKernel(bytes: number): { memory: WasmMemory; scores: ScoresFn; scoresF32: ScoresF32Fn } | null {
  const mod = scoringModule();
  if (!mod || !wasm) return null;
  const memory = new wasm.Memory({ initial: Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES)) });
  const instance = new wasm.Instance(mod, { env: { memory } });
  return { memory, scores: instance.exports['scores'] as ScoresFn, scoresF32: instance.exports['scoresF32'] as ScoresF32Fn };
}
