/**
 * The lookahead delay: one power-of-two ring per channel holding the
 * sanitized raw input. The strip writes a sub-block at writePos and then
 * reads it back `delay` frames late, so a ring must hold the longest delay
 * plus one sub-block.
 */
export class DelayLines {
  readonly rings: Float64Array[];
  readonly mask: number;
  /** Ring index of the first frame of the current sub-block. */
  writePos = 0;

  /** `rings`: arrays of ringFrames(…) frames to use instead of new ones (the WebAssembly kernel's memory). */
  constructor(channels: number, maxDelayFrames: number, maxChunkFrames: number, rings?: Float64Array[]) {
    const size = DelayLines.ringFrames(maxDelayFrames, maxChunkFrames);
    this.mask = size - 1;
    this.rings = rings ?? Array.from({ length: channels }, () => new Float64Array(size));
  }

  /** The power-of-two ring length for these limits. */
  static ringFrames(maxDelayFrames: number, maxChunkFrames: number): number {
    let size = 1;
    while (size < maxDelayFrames + maxChunkFrames + 1) size <<= 1;
    return size;
  }

  reset(): void {
    for (const r of this.rings) r.fill(0);
    this.writePos = 0;
  }

  advance(frames: number): void {
    this.writePos = (this.writePos + frames) & this.mask;
  }
}
