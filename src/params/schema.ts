/**
 * The parameter schema: the single source of truth for every parameter's
 * name, unit, range, step, default and student-facing explanation.
 * Validation, CLI flags, MQTT, the info document, Home Assistant discovery,
 * dashboard ranges and encoder steps are all derived from this list.
 * Pure data: no Node APIs, so the audio layer may import it.
 */

interface ParamBase {
  /** Wire name (snake_case), as used on MQTT and in JSON. */
  readonly name: string;
  /** Short human label for UIs. */
  readonly label: string;
  /** One sentence a student can read as a tooltip. */
  readonly help: string;
}

export interface NumberParamDef extends ParamBase {
  readonly kind: 'number';
  readonly unit: string;
  readonly min: number;
  readonly max: number;
  readonly step: number;
  readonly default: number;
}

export interface BoolParamDef extends ParamBase {
  readonly kind: 'bool';
  readonly default: boolean;
}

export interface EnumParamDef extends ParamBase {
  readonly kind: 'enum';
  readonly options: readonly string[];
  readonly default: string;
}

export type ParamDef = NumberParamDef | BoolParamDef | EnumParamDef;

export const PARAMS = [
  {
    name: 'input_gain', label: 'Input gain', kind: 'number', unit: 'dB',
    min: -24, max: 24, step: 0.5, default: 0,
    help: 'Gain before everything else: turn it up and more of the signal crosses the threshold.',
  },
  {
    name: 'threshold', label: 'Threshold', kind: 'number', unit: 'dBFS',
    min: -60, max: 0, step: 0.5, default: -18,
    help: 'The level where compression starts; the lower it is, the more of the signal gets turned down.',
  },
  {
    name: 'ratio', label: 'Ratio', kind: 'number', unit: ':1',
    min: 1, max: 20, step: 0.1, default: 4,
    help: 'How hard levels above the threshold are squeezed: at 4:1, 4 dB more in gives 1 dB more out.',
  },
  {
    name: 'knee', label: 'Knee', kind: 'number', unit: 'dB',
    min: 0, max: 24, step: 0.5, default: 6,
    help: 'Width of the gentle bend around the threshold; 0 dB is a hard corner.',
  },
  {
    name: 'attack', label: 'Attack', kind: 'number', unit: 'ms',
    min: 0.1, max: 500, step: 0.1, default: 10,
    help: 'How fast the compressor reacts when the level rises above the threshold (63 % of the way in this time).',
  },
  {
    name: 'release', label: 'Release', kind: 'number', unit: 'ms',
    min: 5, max: 5000, step: 1, default: 150,
    help: 'How fast the compressor lets go when the level falls again (63 % of the way in this time).',
  },
  {
    name: 'makeup', label: 'Makeup gain', kind: 'number', unit: 'dB',
    min: -12, max: 36, step: 0.5, default: 0,
    help: 'Gain after compression, to win back the loudness the compressor took away.',
  },
  {
    name: 'auto_makeup', label: 'Auto makeup', kind: 'bool', default: false,
    help: 'Adds makeup computed from threshold and ratio: half of what a full-scale signal loses.',
  },
  {
    name: 'detector', label: 'Detector', kind: 'enum', options: ['peak', 'rms'], default: 'peak',
    help: 'Peak reacts to every sample; RMS follows the average loudness, closer to what the ear hears.',
  },
  {
    name: 'rms_window', label: 'RMS window', kind: 'number', unit: 'ms',
    min: 1, max: 300, step: 1, default: 10,
    help: 'How long the RMS detector averages over; longer is smoother but slower.',
  },
  {
    name: 'lookahead', label: 'Lookahead', kind: 'number', unit: 'ms',
    min: 0, max: 20, step: 0.1, default: 0,
    help: 'Delays the audio so the compressor sees a peak coming before it arrives (adds this much latency).',
  },
  {
    name: 'link', label: 'Stereo link', kind: 'enum', options: ['max', 'average', 'none'], default: 'max',
    help: 'How channels share one gain: the loudest, the average, or each channel on its own.',
  },
  {
    name: 'sidechain_hpf', label: 'Sidechain HPF', kind: 'number', unit: 'Hz',
    min: 0, max: 500, step: 1, default: 0,
    help: 'High-pass filter on what the detector hears, so deep bass does not pump the mix (0 = off).',
  },
  {
    name: 'mix', label: 'Mix', kind: 'number', unit: '%',
    min: 0, max: 100, step: 1, default: 100,
    help: 'Share of compressed signal in the output; below 100 % blends in the dry signal (parallel compression).',
  },
  {
    name: 'limiter', label: 'Limiter', kind: 'bool', default: true,
    help: 'A brick-wall limiter at the end that never lets a sample past the ceiling.',
  },
  {
    name: 'ceiling', label: 'Ceiling', kind: 'number', unit: 'dBFS',
    min: -24, max: 0, step: 0.1, default: -1,
    help: 'The limiter never lets any output sample go louder than this.',
  },
  {
    name: 'true_peak', label: 'True peak', kind: 'bool', default: true,
    help: 'The limiter also catches the peaks between samples that a converter or an MP3 encoder would rebuild, so those stay under the ceiling too.',
  },
  {
    name: 'bypass', label: 'Bypass', kind: 'bool', default: false,
    help: 'Hear the signal untouched, to compare before and after.',
  },
  {
    name: 'level_match', label: 'Level-matched A/B', kind: 'bool', default: false,
    help: 'When you bypass, the original plays as loud as the compressed sound was, so you compare compression, not loudness.',
  },
  {
    name: 'bypass_gain', label: 'Bypass gain', kind: 'number', unit: 'dB',
    min: -24, max: 24, step: 0.1, default: 0,
    help: 'Gain on the original while bypassed; with level-matched A/B on, the unit sets it each time you bypass, from the loudness it measured.',
  },
] as const satisfies readonly ParamDef[];

type Defs = typeof PARAMS;
export type ParamName = Defs[number]['name'];

type ValueOf<D> = D extends { kind: 'number' } ? number
  : D extends { kind: 'bool' } ? boolean
  : D extends { kind: 'enum'; options: readonly (infer O)[] } ? O
  : never;

/** A full set of parameter values, typed per parameter. */
export type ParamValues = { -readonly [D in Defs[number] as D['name']]: ValueOf<D> };

export const PARAM_NAMES: readonly ParamName[] = PARAMS.map((p) => p.name);

const byName = new Map<string, ParamDef>(PARAMS.map((p) => [p.name, p]));

export function isParamName(name: string): name is ParamName {
  return byName.has(name);
}

export function paramDef(name: ParamName): ParamDef {
  return byName.get(name)!;
}

export function defaultParams(): ParamValues {
  const values: Record<string, unknown> = {};
  for (const p of PARAMS) values[p.name] = p.default;
  return values as ParamValues;
}

/** The largest value a numeric parameter may take (buffers are sized from it). */
export function numberMax(name: ParamName): number {
  const def = paramDef(name);
  if (def.kind !== 'number') throw new Error(`${name} is not a numeric parameter`);
  return def.max;
}

/** The smallest value a numeric parameter may take. */
export function numberMin(name: ParamName): number {
  const def = paramDef(name);
  if (def.kind !== 'number') throw new Error(`${name} is not a numeric parameter`);
  return def.min;
}

/** Index of each parameter in the numeric parameter vector. */
export const PARAM_INDEX = Object.fromEntries(PARAMS.map((p, i) => [p.name, i])) as {
  readonly [K in ParamName]: number;
};

export const PARAM_COUNT = PARAMS.length;

/** "-24..24 dB", "peak | rms", "true | false": how a range reads in a message. */
export function describeRange(def: ParamDef): string {
  switch (def.kind) {
    case 'number': return `${def.min} to ${def.max}${def.unit === ':1' ? '' : ' ' + def.unit}`;
    case 'bool': return 'true or false';
    case 'enum': return def.options.join(', ');
  }
}

/** The CLI flag of a parameter: `rms_window` → `--rms-window`. */
export function flagName(name: ParamName): string {
  return name.replace(/_/g, '-');
}
