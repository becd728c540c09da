#!/usr/bin/env node
/**
 * The one executable: `picomp <command>`. User mistakes exit with code 2
 * and one line on stderr; anything else is a bug and says so.
 */
import { isUserError } from '../errors.js';

const HELP = `Usage: picomp <command> [options]

Commands:
  start      run the device: audio engine, MQTT broker (and dashboard with --dashboard)
  dashboard  run only the Node-RED dashboard for a unit
  classroom  run the teacher's console for a room of units
  render     process a WAV file with the device's exact DSP
  generate   write a teaching signal (demo drums, tone bursts, sweep, noise) to a WAV file
  devices    list the audio devices PortAudio sees
  params     list every parameter with its range and meaning
  presets    list built-in and user presets
  user       manage MQTT users and roles (add, remove, list)
  class      the teacher's actions on the classroom hub (set, lock, unlock, reset, status, retire)
  hub        make the classroom hub's Mosquitto ACL and password files from the users

Run picomp <command> --help for a command's options.`;

type Runner = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Runner>> = {
  start: async () => (await import('./start.js')).runStart,
  dashboard: async () => (await import('./dashboard-command.js')).runDashboard,
  classroom: async () => (await import('./classroom-command.js')).runClassroom,
  render: async () => (await import('./render.js')).runRender,
  generate: async () => (await import('./generate-command.js')).runGenerate,
  devices: async () => (await import('./devices.js')).runDevices,
  params: async () => (await import('./params-command.js')).runParams,
  presets: async () => (await import('./presets-command.js')).runPresets,
  user: async () => (await import('./user.js')).runUserCommand,
  class: async () => (await import('./class-command.js')).runClass,
  hub: async () => (await import('./hub-command.js')).runHub,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    const { version } = await import('./version.js');
    process.stdout.write(version + '\n');
    return 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`picomp: unknown command "${name}"; commands are ${Object.keys(commands).join(', ')}.\n`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`picomp ${name}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`picomp ${name}: internal error (please report it): ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
