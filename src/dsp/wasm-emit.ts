/**
 * The least of a WebAssembly binary writer: enough to build the strip's
 * stereo kernel (stereo-wasm.ts) from this project's own source at run
 * time, with no toolchain. Instructions are byte arrays; a function body
 * is their concatenation (the binary format is the stack machine itself).
 * Reference: the WebAssembly core spec, §5 (binary format), and the SIMD
 * proposal's opcode table (0xFD prefix).
 */

export type Code = number[];

/** Unsigned LEB128. */
export function uleb(n: number): Code {
  const out: Code = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (32-bit values). */
export function sleb(n: number): Code {
  const out: Code = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}

export const VALTYPE = { i32: 0x7f, f64: 0x7c, v128: 0x7b } as const;

const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: Code): Code => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): Code => vec([...Buffer.from(s, 'utf8')].map((c) => [c]));

export const i32Const = (x: number): Code => [0x41, ...sleb(x)];
export const f64Const = (x: number): Code => [0x44, ...new Uint8Array(new Float64Array([x]).buffer)];
export const f32Const = (x: number): Code => [0x43, ...new Uint8Array(new Float32Array([x]).buffer)];
export const localGet = (i: number): Code => [0x20, ...uleb(i)];
export const localSet = (i: number): Code => [0x21, ...uleb(i)];
export const localTee = (i: number): Code => [0x22, ...uleb(i)];
/** Memory access with a static byte offset; alignment hint 2^align. */
const mem = (op: number, align: number) => (offset = 0): Code => [op, align, ...uleb(offset)];
const simd = (op: number, ...imm: number[]): Code => [0xfd, ...uleb(op), ...imm];

/** The instructions the kernel uses. */
export const op = {
  f64Load: mem(0x2b, 3), f64Store: mem(0x39, 3), f32Load: mem(0x2a, 2),
  f64Add: [0xa0], f64Sub: [0xa1], f64Mul: [0xa2], f64Div: [0xa3], f64Abs: [0x99], f64Neg: [0x9a], f64Sqrt: [0x9f],
  f64Gt: [0x64], f64Lt: [0x63], f64Le: [0x65], f64Eq: [0x61],
  f64PromoteF32: [0xbb], f64ConvertI32S: [0xb7], i32TruncF64S: [0xaa],
  i64ReinterpretF64: [0xbd], i64ShrU: [0x88], i64Const32: [0x42, 32], i32WrapI64: [0xa7],
  i32Add: [0x6a], i32Sub: [0x6b], i32And: [0x71], i32Shl: [0x74], i32ShrS: [0x75], i32ShrU: [0x76], i32GeS: [0x4e], i32GtS: [0x4a], i32LtS: [0x48], i32Eqz: [0x45],
  i32Eq: [0x46], i32Mul: [0x6c], i32Load: mem(0x28, 2), i32Store: mem(0x36, 2),
  select: [0x1b], drop: [0x1a],
  /** block … end / loop … end with no result. */
  block: [0x02, 0x40], loop: [0x03, 0x40], if: [0x04, 0x40], else: [0x05], end: [0x0b],
  br: (depth: number): Code => [0x0c, ...uleb(depth)], brIf: (depth: number): Code => [0x0d, ...uleb(depth)],
  v128Load: (offset = 0): Code => simd(0x00, 3, ...uleb(offset)),
  v128Store: (offset = 0): Code => simd(0x0b, 3, ...uleb(offset)),
  /** One double into both lanes. */
  v128Load64Splat: (offset = 0): Code => simd(0x0a, 3, ...uleb(offset)),
  /** One double into lane `lane`, the other lane kept. */
  v128Load64Lane: (lane: number, offset = 0): Code => simd(0x57, 3, ...uleb(offset), lane),
  /** Stores lane `lane` as one double. */
  v128Store64Lane: (lane: number, offset = 0): Code => simd(0x5b, 3, ...uleb(offset), lane),
  /** Stores the low 64 bits (lane 0 of an i64x2 view). */
  v128Store64Lane0: (offset = 0): Code => simd(0x5b, 2, ...uleb(offset), 0),
  /** 64 bits into the low half, the high half zero. */
  v128Load64Zero: (offset = 0): Code => simd(0x5d, 2, ...uleb(offset)),
  i8x16Shuffle: (lanes: number[]): Code => simd(0x0d, ...lanes),
  i32x4Splat: simd(0x11), f32x4Splat: simd(0x13), i32x4ExtractLane: (l: number): Code => simd(0x1b, l),
  f64x2Splat: simd(0x14), f64x2ExtractLane: (l: number): Code => simd(0x21, l), f64x2ReplaceLane: (l: number): Code => simd(0x22, l),
  f64x2Eq: simd(0x47), f64x2Lt: simd(0x49), f64x2Gt: simd(0x4a), f64x2Le: simd(0x4b), f64x2Ge: simd(0x4c),
  v128And: simd(0x4e), v128Bitselect: simd(0x52),
  f32x4DemoteF64x2Zero: simd(0x5e), f64x2PromoteLowF32x4: simd(0x5f),
  i32x4ShrS: simd(0xac), i32x4Sub: simd(0xb1),
  f32x4Abs: simd(0xe0), f32x4Add: simd(0xe4), f32x4Sub: simd(0xe5), f32x4Mul: simd(0xe6), f32x4Pmax: simd(0xeb),
  f64x2Abs: simd(0xec), f64x2Sqrt: simd(0xef), f64x2Add: simd(0xf0), f64x2Sub: simd(0xf1), f64x2Mul: simd(0xf2), f64x2Div: simd(0xf3),
  /** pmin(a, b) = b < a ? b : a; pmax(a, b) = a < b ? b : a (JavaScript's ternaries, lane by lane). */
  f64x2Pmin: simd(0xf6), f64x2Pmax: simd(0xf7),
  i32x4TruncSatF64x2SZero: simd(0xfc), f64x2ConvertLowI32x4S: simd(0xfe),
};

export interface WasmFunction {
  name: string;
  params: number[];
  locals: number[];
  body: Code;
}

/** A module importing one memory as env.memory and exporting the functions (no results). */
export function moduleBytes(functions: WasmFunction[], memoryPages: number): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec([])]);
  const bodies = functions.map((f) => {
    // Locals as runs of one type.
    const runs: Code[] = [];
    for (let i = 0; i < f.locals.length;) {
      let j = i;
      while (j < f.locals.length && f.locals[j] === f.locals[i]) j++;
      runs.push([...uleb(j - i), f.locals[i]!]);
      i = j;
    }
    const code = [...vec(runs), ...f.body, ...op.end];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(memoryPages)]])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(bodies)),
  ]);
}
