/**
 * The static curve of SPEC §2.1: output level for an input level, in dB,
 * with a soft knee of width kneeDb centred on thresholdDb.
 */
export function staticCurveDb(inputDb: number, thresholdDb: number, ratio: number, kneeDb: number): number {
  const over = inputDb - thresholdDb;
  // The knee formula meets both lines exactly at ±W/2, so the boundaries may
  // go either way; taking them here keeps a hard knee (W = 0) off 0/0.
  if (2 * over <= -kneeDb) return inputDb;
  if (2 * over >= kneeDb) return thresholdDb + over / ratio;
  // Inside the knee (only reached when kneeDb > 0).
  const k = over + kneeDb / 2;
  return inputDb + ((1 / ratio - 1) * k * k) / (2 * kneeDb);
}

/** Gain change (dB, ≤ 0) the static curve applies at inputDb. */
export function staticGainDb(inputDb: number, thresholdDb: number, ratio: number, kneeDb: number): number {
  return staticCurveDb(inputDb, thresholdDb, ratio, kneeDb) - inputDb;
}

/** SPEC §2.4: half the static loss of a 0 dBFS input, −½·T·(1 − 1/R). */
export function autoMakeupDb(thresholdDb: number, ratio: number): number {
  return -0.5 * thresholdDb * (1 - 1 / ratio);
}
