/**
 * Built-in presets: real-world starting points a student can load and then
 * tweak. A preset is a partial parameter set laid over the defaults, so
 * every preset fully defines the sound (loading one never inherits leftovers
 * from the previous settings).
 */
import { defaultParams, type ParamValues } from './schema.js';
import { validatePartial } from './validate.js';

export interface Preset {
  readonly name: string;
  readonly description: string;
  readonly params: Partial<ParamValues>;
  readonly builtIn: boolean;
}

export const BUILT_IN_PRESETS: readonly Preset[] = [
  {
    name: 'gentle-vocal', builtIn: true,
    description: 'Smooth levelling for a singing or speaking voice: low ratio, soft knee, RMS detection.',
    params: { threshold: -20, ratio: 2.5, knee: 10, attack: 15, release: 180, detector: 'rms', rms_window: 20, auto_makeup: true },
  },
  {
    name: 'drum-bus', builtIn: true,
    description: 'Glues a drum kit together; the slow attack lets the stick hits punch through.',
    params: { threshold: -16, ratio: 4, knee: 4, attack: 30, release: 120, sidechain_hpf: 60, makeup: 3 },
  },
  {
    name: 'bass', builtIn: true,
    description: 'Even bass notes: fast enough to catch plucks, release long enough not to distort lows.',
    params: { threshold: -22, ratio: 5, knee: 6, attack: 8, release: 250, detector: 'rms', rms_window: 30, auto_makeup: true },
  },
  {
    name: 'broadcast-voice', builtIn: true,
    description: 'Dense, loud, always-present speech as on radio, with the limiter catching what is left.',
    params: { threshold: -30, ratio: 6, knee: 8, attack: 3, release: 200, sidechain_hpf: 100, makeup: 10, ceiling: -1 },
  },
  {
    name: 'brickwall-limiter', builtIn: true,
    description: 'A mastering-style limiter: very high ratio, instant attack, lookahead, hard ceiling.',
    params: { threshold: -6, ratio: 20, knee: 0, attack: 0.1, release: 60, lookahead: 5, ceiling: -0.3, makeup: 4 },
  },
  {
    name: 'new-york', builtIn: true,
    description: 'Parallel ("New York") compression: crush a copy hard and blend it under the dry signal.',
    params: { threshold: -40, ratio: 10, knee: 2, attack: 1, release: 100, makeup: 18, mix: 35 },
  },
  {
    name: 'classroom-demo', builtIn: true,
    description: 'Exaggerated settings that make pumping obvious: deep threshold, hard ratio, slow release.',
    params: { threshold: -40, ratio: 20, knee: 0, attack: 50, release: 1000, makeup: 12 },
  },
];

/** The full parameter set a preset stands for. */
export function presetValues(preset: Preset): ParamValues {
  return { ...defaultParams(), ...preset.params };
}

/** Parses a user preset file's JSON; returns an error sentence on failure. */
export function parseUserPreset(name: string, json: unknown): Preset | string {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return `preset "${name}" must be a JSON object like {"params": {"threshold": -20}}.`;
  }
  const obj = json as { description?: unknown; params?: unknown };
  const stray = Object.keys(obj).filter((k) => k !== 'description' && k !== 'params');
  if (stray.length > 0) {
    return `preset "${name}" has ${stray.map((k) => JSON.stringify(k)).join(', ')} outside "params"; it must look like {"description": "…", "params": {"threshold": -20}}.`;
  }
  if (obj.params === undefined) return `preset "${name}" has no "params"; it must look like {"description": "…", "params": {"threshold": -20}}.`;
  if (obj.description !== undefined && typeof obj.description !== 'string') return `preset "${name}": "description" must be text.`;
  const r = validatePartial(obj.params);
  if (!r.ok) return `preset "${name}": ${r.error}`;
  return {
    name, builtIn: false, params: r.value,
    description: typeof obj.description === 'string' ? obj.description : 'User preset.',
  };
}

export const PRESET_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
