/**
 * Second-order Butterworth high-pass for the sidechain (RBJ bilinear
 * design with Q = 1/√2), direct form I in Float64. Direct form I keeps
 * past inputs and outputs as its state, so coefficients can change between
 * sub-blocks without the internal-state transients a transposed form shows.
 */

export const BUTTERWORTH_Q = Math.SQRT1_2;

/** Writes [b0, b1, b2, a1, a2] (a0 normalised to 1) into `into`. */
export function butterworthHighpass(cutoffHz: number, sampleRate: number, into: Float64Array): void {
  // Keep the prewarped frequency well below Nyquist whatever the caller asks.
  const fc = Math.min(Math.max(cutoffHz, 1), 0.45 * sampleRate);
  const w0 = (2 * Math.PI * fc) / sampleRate;
  const cos = Math.cos(w0);
  const alpha = Math.sin(w0) / (2 * BUTTERWORTH_Q);
  const a0 = 1 + alpha;
  into[0] = (1 + cos) / 2 / a0;
  into[1] = -(1 + cos) / a0;
  into[2] = (1 + cos) / 2 / a0;
  into[3] = (-2 * cos) / a0;
  into[4] = (1 - alpha) / a0;
}

/** Per-channel direct-form-I state: [x1, x2, y1, y2] at 4·channel. */
export class BiquadState {
  readonly s: Float64Array;
  constructor(channels: number) {
    this.s = new Float64Array(4 * channels);
  }
  reset(): void {
    this.s.fill(0);
  }
}

/**
 * Filters buf[0..frames) of one channel in place with coefficients c.
 * The output tail decays exponentially in silence; it is flushed to 0 once
 * it is negligible so it never reaches the denormal range.
 */
export function biquadProcess(c: Float64Array, state: BiquadState, channel: number, buf: Float64Array, frames: number): void {
  const s = state.s, o = 4 * channel;
  const b0 = c[0]!, b1 = c[1]!, b2 = c[2]!, a1 = c[3]!, a2 = c[4]!;
  let x1 = s[o]!, x2 = s[o + 1]!, y1 = s[o + 2]!, y2 = s[o + 3]!;
  for (let i = 0; i < frames; i++) {
    const x = buf[i]!;
    const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1; x1 = x; y2 = y1; y1 = y;
    buf[i] = y;
  }
  if ((y1 < 0 ? -y1 : y1) < 1e-30 && (y2 < 0 ? -y2 : y2) < 1e-30) { y1 = 0; y2 = 0; }
  s[o] = x1; s[o + 1] = x2; s[o + 2] = y1; s[o + 3] = y2;
}
