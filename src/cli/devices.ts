/**
 * `picomp devices`: the audio devices as PortAudio sees them, with the
 * index or name to pass to --input and --output, and which sound systems
 * (ALSA cards, JACK, PipeWire) were found to offer them.
 */
import { listDevices } from '../io/audio-device.js';
import { describeAudioHosts, probeAudioHosts } from '../io/audio-hosts.js';
import { parseCommandArgs } from './args.js';

export const devicesHelp = `Usage: picomp devices [--json]

Lists the audio devices PortAudio sees: index, name, input and output
channels, default sample rate, host API (ALSA, JACK). Pass the index or
(part of) the name to picomp start --input / --output. PortAudio is asked
only when a sound card, an ALSA configuration, a JACK server (the one
JACK_DEFAULT_SERVER names, else "default"), PipeWire or PulseAudio is
there.`;

export async function runDevices(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('devices', argv, { json: { type: 'boolean' } }, false);
  if (values.help) { process.stdout.write(devicesHelp + '\n'); return 0; }
  const devices = listDevices({ wholeStderr: true });
  if (values.json) { process.stdout.write(JSON.stringify(devices, null, 2) + '\n'); return 0; }
  const hosts = describeAudioHosts(probeAudioHosts());
  if (devices.length === 0) {
    process.stdout.write(`No audio devices found (${hosts}). picomp start will run the demo source into null.\n`);
    return 0;
  }
  process.stdout.write(`Sound systems: ${hosts.replace(/^found /, '')}.\n`);
  process.stdout.write(`${'index'.padEnd(6)}${'in'.padEnd(4)}${'out'.padEnd(5)}${'rate'.padEnd(8)}name (host API)\n`);
  for (const d of devices) {
    process.stdout.write(`${String(d.index).padEnd(6)}${String(d.maxInputChannels).padEnd(4)}${String(d.maxOutputChannels).padEnd(5)}` +
      `${String(d.defaultSampleRate).padEnd(8)}${d.name} (${d.hostApi})\n`);
  }
  return 0;
}
