/**
 * The numeric form of a parameter set, as the audio layer reads it: one
 * float per parameter at PARAM_INDEX, booleans as 0/1, enums as the index
 * of their option. Lets parameters cross a SharedArrayBuffer untouched.
 */
import { PARAMS, PARAM_COUNT, paramDef, type EnumParamDef, type ParamValues } from './schema.js';

type EnumParamName = Extract<(typeof PARAMS)[number], { kind: 'enum' }>['name'];
type EnumOption<N extends EnumParamName> = ParamValues[N];

/** The number an enum option travels as: its index in the schema's options. */
export function enumIndex<N extends EnumParamName>(name: N, option: EnumOption<N>): number {
  return (paramDef(name) as EnumParamDef).options.indexOf(option);
}

export function encodeParams(values: ParamValues, into: Float64Array = new Float64Array(PARAM_COUNT)): Float64Array {
  PARAMS.forEach((def, i) => {
    const v = values[def.name as keyof ParamValues];
    switch (def.kind) {
      case 'number': into[i] = v as number; break;
      case 'bool': into[i] = v ? 1 : 0; break;
      case 'enum': into[i] = enumIndex(def.name, v as never); break;
    }
  });
  return into;
}

export function decodeParams(vector: ArrayLike<number>): ParamValues {
  const out: Record<string, unknown> = {};
  PARAMS.forEach((def, i) => {
    const v = vector[i]!;
    switch (def.kind) {
      case 'number': out[def.name] = v; break;
      case 'bool': out[def.name] = v !== 0; break;
      case 'enum': out[def.name] = def.options[v] ?? def.default; break;
    }
  });
  return out as ParamValues;
}
