/**
 * A microsecond clock for the audio layer that makes no garbage, so the
 * audio worker runs without garbage collections.
 *
 * Every clock Node 20 offers allocates: performance.now() and Date.now()
 * box their result, process.hrtime() returns a new array. The array costs
 * nothing when V8 inlines hrtime into an optimised caller and removes it
 * (escape analysis), but inside the block path the caller is large, V8's
 * inlining budget can run out before it reaches hrtime, and then every
 * reading allocates (a young-generation GC every minute or so). So the
 * reading is called out of line: Reflect.apply with an argument list is a
 * call V8 does not inline, the reader is optimised on its own with hrtime
 * inlined, and the result, an integer below 2^30, crosses back unboxed.
 * `npm run bench` counts the worker's GCs and test/engine/block-gc.test.ts
 * fails if this ever allocates again.
 */
const WRAP_US = 1_000_000_000;
const NO_ARGUMENTS: readonly [] = Object.freeze([]) as readonly [];

function readHrtimeUs(): number {
  const t = process.hrtime();
  return ((t[0]! % 1000) * 1_000_000 + ((t[1]! / 1000) | 0)) | 0;
}

/** Microseconds, wrapping every 1000 s: use only differences, through elapsedUs(). */
export function clockUs(): number {
  return Reflect.apply(readHrtimeUs, undefined, NO_ARGUMENTS) as number;
}

/** Microseconds from `fromUs` to `toUs`, both from clockUs(), across a wrap. */
export function elapsedUs(fromUs: number, toUs: number): number {
  const d = toUs - fromUs;
  return d < 0 ? d + WRAP_US : d;
}
