/**
 * `picomp generate NAME OUT.wav`: writes one of the built-in teaching
 * signals to a file, so a newcomer has something to render (and the
 * device's `demo` source can be heard outside the device).
 */
import { createGenerator, GENERATOR_NAMES, type GeneratorName, type GeneratorOptions } from '../dsp/generators.js';
import { MAX_CHANNELS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from '../dsp/kernel.js';
import { WavWriter } from '../io/wav-writer.js';
import { SAMPLE_FORMATS, type SampleFormat } from '../io/wav-format.js';
import { UserError } from '../errors.js';
import { intFlag, parseCommandArgs } from './args.js';
import { settingDef } from './settings.js';

/** The unit's own default rate, so a generated file plays on a unit started without --sample-rate. */
const DEFAULT_SAMPLE_RATE_HZ = Number(settingDef('sample-rate').default);

export const generateHelp = `Usage: picomp generate NAME OUT.wav [options]

Writes a teaching signal to a WAV file:
  demo     a synthesised drum-and-bass loop with sharp hits (the device's demo source)
  bursts   a tone stepping between quiet and loud, to hear attack and release
  sweep    a logarithmic sine sweep
  pink     pink noise
  sine     a steady sine

Options:
  --seconds N        length, 1..600 (default 8)
  --sample-rate N    ${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE} (default ${DEFAULT_SAMPLE_RATE_HZ})
  --channels N       1..${MAX_CHANNELS} (default 2)
  --level DB         level in dBFS, -60..0 (peak; RMS for pink)
  --frequency HZ     tone frequency for sine and bursts, 20..20000
  --format F         ${SAMPLE_FORMATS.join(', ')} (default float32)
  -h, --help         show this help

Example:
  picomp generate demo drums.wav && picomp render drums.wav squashed.wav --preset classroom-demo --plot squashed.svg`;

function numberFlag(name: string, raw: unknown, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (String(raw).trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UserError(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}.`);
  }
  return n;
}

export async function runGenerate(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('generate', argv, {
    seconds: { type: 'string' }, 'sample-rate': { type: 'string' }, channels: { type: 'string' },
    level: { type: 'string' }, frequency: { type: 'string' }, format: { type: 'string' },
  });
  if (values.help) { process.stdout.write(generateHelp + '\n'); return 0; }
  const [name, outPath] = positionals;
  if (positionals.length !== 2 || !name || !outPath) throw new UserError('generate needs a signal name and an output file: picomp generate demo drums.wav.');
  if (!(GENERATOR_NAMES as readonly string[]).includes(name)) {
    throw new UserError(`there is no signal "${name}"; choose one of ${GENERATOR_NAMES.join(', ')}.`);
  }
  const format = (values.format as string | undefined) ?? 'float32';
  if (!(SAMPLE_FORMATS as readonly string[]).includes(format)) throw new UserError(`--format must be one of ${SAMPLE_FORMATS.join(', ')}, got ${JSON.stringify(format)}.`);
  const seconds = numberFlag('seconds', values.seconds, 1, 600) ?? 8;
  const sampleRate = intFlag('sample-rate', values['sample-rate'], MIN_SAMPLE_RATE, MAX_SAMPLE_RATE) ?? DEFAULT_SAMPLE_RATE_HZ;
  const channels = intFlag('channels', values.channels, 1, MAX_CHANNELS) ?? 2;
  const opts: GeneratorOptions = {};
  const level = numberFlag('level', values.level, -60, 0);
  if (level !== undefined) opts.levelDb = level;
  const frequency = numberFlag('frequency', values.frequency, 20, 20000);
  if (frequency !== undefined) opts.frequencyHz = frequency;

  const generator = createGenerator(name as GeneratorName, opts);
  const blockFrames = 4096;
  generator.prepare({ sampleRate, maxBlockFrames: blockFrames, channels });
  const block = Array.from({ length: channels }, () => new Float32Array(blockFrames));
  const writer = await WavWriter.create(outPath, { sampleRate, channels, format: format as SampleFormat }).catch((e: Error) => {
    throw e instanceof UserError ? e : new UserError(`cannot write ${outPath}: ${e.message}.`);
  });
  try {
    let left = Math.round(seconds * sampleRate);
    while (left > 0) {
      const n = Math.min(blockFrames, left);
      generator.process(block, n);
      await writer.write(block, n);
      left -= n;
    }
    await writer.finish();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  process.stderr.write(`picomp generate: ${seconds} s of ${name} (${channels} channels, ${sampleRate} Hz, ${format}) → ${outPath}.\n`);
  return 0;
}
