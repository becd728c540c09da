/**
 * Which sound systems could offer PortAudio a device, found without asking
 * PortAudio: asking makes ALSA and JACK probe everything they know and
 * print their complaints, and on a machine with none of them there is
 * nothing to find. Each check is a file or socket their own clients look
 * for: a kernel sound card, an ALSA configuration that adds plugin devices,
 * a JACK server's socket, a PipeWire or PulseAudio socket.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AudioHosts {
  /** Kernel sound cards (/proc/asound/cards). */
  readonly alsaCards: number;
  /** A user or system ALSA configuration that may define plugin devices. */
  readonly alsaConfig: string | null;
  /** The JACK server libjack would connect to, when its socket exists. */
  readonly jackServer: string | null;
  /** PipeWire's socket, when it runs (its ALSA plugin and JACK layer then offer devices). */
  readonly pipewire: string | null;
  /** PulseAudio's socket (its ALSA plugin offers a device). */
  readonly pulse: string | null;
}

/** Where the probes look: the real file system unless a test says otherwise. */
export interface ProbeRoots {
  readonly procAsound: string;
  readonly devShm: string;
  readonly etcAsoundConf: string;
  readonly uid: number;
}

const SYSTEM_ROOTS: ProbeRoots = {
  procAsound: '/proc/asound',
  devShm: '/dev/shm',
  etcAsoundConf: '/etc/asound.conf',
  uid: typeof process.getuid === 'function' ? process.getuid() : 0,
};

function alsaCards(procAsound: string): number {
  try {
    const text = readFileSync(join(procAsound, 'cards'), 'utf8');
    return text.split('\n').filter((line) => /^\s*\d+\s+\[/.test(line)).length;
  } catch {
    return 0;
  }
}

function alsaConfig(env: NodeJS.ProcessEnv, roots: ProbeRoots): string | null {
  if (env.ALSA_CONFIG_PATH) return env.ALSA_CONFIG_PATH;
  const user = env.HOME ? join(env.HOME, '.asoundrc') : null;
  if (user && existsSync(user)) return user;
  return existsSync(roots.etcAsoundConf) ? roots.etcAsoundConf : null;
}

/**
 * libjack (jackd2) connects to the socket `jack_<server>_<uid>_0` in
 * /dev/shm; jackd1 used a directory per server under `jack-<uid>`.
 */
function jackServer(env: NodeJS.ProcessEnv, roots: ProbeRoots): string | null {
  const server = env.JACK_DEFAULT_SERVER || 'default';
  const candidates = [
    join(roots.devShm, `jack_${server}_${roots.uid}_0`),
    join(roots.devShm, `jack-${roots.uid}`, server),
    join(env.TMPDIR || '/tmp', `jack-${roots.uid}`, server),
  ];
  return candidates.some((p) => existsSync(p)) ? server : null;
}

function runtimeDir(env: NodeJS.ProcessEnv, roots: ProbeRoots): string {
  return env.XDG_RUNTIME_DIR || `/run/user/${roots.uid}`;
}

function pipewire(env: NodeJS.ProcessEnv, roots: ProbeRoots): string | null {
  const socket = join(env.PIPEWIRE_RUNTIME_DIR || runtimeDir(env, roots), env.PIPEWIRE_REMOTE || 'pipewire-0');
  return existsSync(socket) ? socket : null;
}

function pulse(env: NodeJS.ProcessEnv, roots: ProbeRoots): string | null {
  if (env.PULSE_SERVER) return env.PULSE_SERVER;
  const socket = join(env.PULSE_RUNTIME_PATH || join(runtimeDir(env, roots), 'pulse'), 'native');
  return existsSync(socket) ? socket : null;
}

export function probeAudioHosts(env: NodeJS.ProcessEnv = process.env, roots: ProbeRoots = SYSTEM_ROOTS): AudioHosts {
  return {
    alsaCards: alsaCards(roots.procAsound),
    alsaConfig: alsaConfig(env, roots),
    jackServer: jackServer(env, roots),
    pipewire: pipewire(env, roots),
    pulse: pulse(env, roots),
  };
}

/** False only when it is certain PortAudio would find no device. */
export function anyAudioHost(h: AudioHosts): boolean {
  if (process.platform !== 'linux') return true;
  return h.alsaCards > 0 || h.alsaConfig !== null || h.jackServer !== null || h.pipewire !== null || h.pulse !== null;
}

/** One line for people: what was found, or what was looked for. */
export function describeAudioHosts(h: AudioHosts): string {
  const found: string[] = [];
  if (h.alsaCards > 0) found.push(`${h.alsaCards} ALSA sound card${h.alsaCards === 1 ? '' : 's'}`);
  if (h.jackServer !== null) found.push(`JACK server "${h.jackServer}"`);
  if (h.pipewire !== null) found.push('PipeWire');
  if (h.pulse !== null) found.push('PulseAudio');
  if (h.alsaConfig !== null) found.push(`ALSA configuration ${h.alsaConfig}`);
  return found.length > 0 ? `found ${found.join(', ')}` : 'no ALSA sound card, no ALSA configuration, no JACK server, no PipeWire or PulseAudio';
}
