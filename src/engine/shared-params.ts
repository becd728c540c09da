/**
 * Parameters crossing from the user layer to the audio layer through a
 * SharedArrayBuffer, guarded by a sequence lock: the writer bumps the
 * sequence to odd, writes, bumps to even; the reader copies and keeps the
 * copy only if the sequence was even and unchanged. The reader never
 * waits: a torn read is simply retried at the next block.
 */
import { PARAM_COUNT } from '../params/schema.js';

const HEADER_BYTES = 8; // Int32 sequence, padded to Float64 alignment

export class SharedParams {
  readonly #seq: Int32Array;
  readonly #values: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(HEADER_BYTES + PARAM_COUNT * 8)) {
    this.#seq = new Int32Array(buffer, 0, 1);
    this.#values = new Float64Array(buffer, HEADER_BYTES, PARAM_COUNT);
  }

  /** User layer: publishes a whole parameter vector. */
  write(vector: Float64Array): void {
    Atomics.add(this.#seq, 0, 1);
    this.#values.set(vector);
    Atomics.add(this.#seq, 0, 1);
  }

  /**
   * Audio layer: copies the vector into `into` if it changed since
   * `lastSeq`; returns the sequence now held (lastSeq when nothing new, or
   * when a write was in progress).
   */
  readIfChanged(into: Float64Array, lastSeq: number): number {
    const before = Atomics.load(this.#seq, 0);
    if (before === lastSeq || (before & 1) === 1) return lastSeq;
    into.set(this.#values);
    return Atomics.load(this.#seq, 0) === before ? before : lastSeq;
  }
}
