/**
 * The strip's steady-state transfer function: the output level of a
 * steady signal for its input level, with the settings as they are. One
 * function for the render plot, the dashboard's curve (the flow carries a
 * copy, see src/dashboard/flow.ts) and the tests. The audio path computes
 * the same thing sample by sample in strip.ts.
 */
import { autoMakeupDb, staticCurveDb } from './gain-computer.js';
import type { ParamValues } from '../params/schema.js';

/** The parameters the steady state depends on (timing and detector do not change it). */
export type TransferParams = Pick<ParamValues,
  'bypass' | 'input_gain' | 'threshold' | 'ratio' | 'knee' | 'makeup' | 'auto_makeup' | 'mix' | 'limiter' | 'ceiling'>
  // Optional: a unit from before level-matched A/B sends none.
  & Partial<Pick<ParamValues, 'bypass_gain'>>;

/**
 * Output level (dBFS) for a steady input level (dBFS, before input gain):
 * input gain, the static curve (SPEC §2.1), makeup and auto makeup (§2.4)
 * on the wet path, the wet/dry mix, and the limiter's ceiling when it is on.
 * Bypass passes the input, turned up or down by bypass_gain (level-matched A/B).
 */
export function transferDb(inputDb: number, p: TransferParams): number {
  if (p.bypass) return inputDb + (p.bypass_gain ?? 0);
  const levelDb = inputDb + p.input_gain;
  const wetDb = staticCurveDb(levelDb, p.threshold, p.ratio, p.knee) + p.makeup + (p.auto_makeup ? autoMakeupDb(p.threshold, p.ratio) : 0);
  const mix = p.mix / 100;
  const outDb = mix >= 1 ? wetDb : 20 * Math.log10(mix * 10 ** (wetDb / 20) + (1 - mix) * 10 ** (levelDb / 20));
  return p.limiter ? Math.min(outDb, p.ceiling) : outDb;
}
