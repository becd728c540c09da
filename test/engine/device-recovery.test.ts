/**
 * A device that stops delivering audio (a USB interface unplugged or
 * wedged) while the unit runs: the real naudiodon → PortAudio → ALSA path,
 * with ALSA capturing from a pipe that a feeder stops writing to.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { createAlsaTestRig, type AlsaTestRig } from '../helpers/alsa.js';
import { freePort } from '../helpers/free-port.js';
import { requireAudioDriver } from '../helpers/audio-driver.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const FEEDER = fileURLToPath(new URL('../fixtures/fifo-feeder.js', import.meta.url));

describe('real-time engine when the device stops (ALSA capture from a stalled pipe)', () => {
  before(function () { requireAudioDriver(this); });
  let rig: AlsaTestRig;
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rig?.cleanup();
  });

  it('notices the stall, keeps the unit up, and runs again on the same device once it delivers', async () => {
    rig = createAlsaTestRig({ channels: 2, inputFifo: true });
    const stallFlag = join(rig.dir, 'stall');
    const feeder = spawn(process.execPath, [FEEDER, rig.inputPath, stallFlag, '2'], { stdio: 'ignore' });
    children.push(feeder);

    const port = await freePort();
    const unit = spawn(process.execPath, [CLI, 'start', '--unit', 'rec-1', '--input', rig.deviceName, '--output', rig.nullDeviceName,
      '--mqtt-port', String(port), '--ws-port', '0', '--listen', '127.0.0.1', '--state-dir', join(rig.dir, 'state'), '--no-dashboard'],
    { env: rig.env, cwd: rig.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(unit);
    let log = '';
    const waiters: { re: RegExp; resolve: () => void }[] = [];
    const onData = (d: Buffer): void => {
      log += d.toString();
      for (const w of [...waiters]) if (w.re.test(log)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
    };
    unit.stdout!.on('data', onData);
    unit.stderr!.on('data', onData);
    unit.once('exit', (code) => { for (const w of waiters) w.resolve(); waiters.length = 0; log += `\n[exited ${code}]`; });
    const logShows = (re: RegExp): Promise<void> => new Promise((resolve) => {
      if (re.test(log)) resolve(); else waiters.push({ re, resolve });
    });

    await logShows(/unit "rec-1" running/);
    assert.match(log, new RegExp(`audio ${rig.deviceName} → ${rig.nullDeviceName} at 48000 Hz`));

    writeFileSync(stallFlag, '');
    await logShows(/audio stopped: the audio device stopped delivering audio .*Retrying in 1\.0 s/);
    assert.equal(unit.exitCode, null, `the unit keeps running:\n${log}`);
    // Still stalled when the retry comes: closing the old stream waits for
    // PortAudio's thread, stuck in the device. That wait has a thread of its
    // own (the old audio thread ends, so the unit can always exit), and the
    // new audio thread is told the old stream is still closing until it has
    // closed; it must never load naudiodon beside the old one (which fails:
    // its native parts load once at a time).
    await logShows(/waiting for the stopped audio thread to let go of the device|still closing|could not be loaded|\[exited/);
    assert.doesNotMatch(log, /could not be loaded/);
    rmSync(stallFlag);
    await logShows(/audio running again: picomp_test → picomp_null|\[exited/);
    assert.match(log, /audio running again: picomp_test → picomp_null/, log);

    // And the unit measures audio again: a meter frame with a level in it.
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
    try {
      const level = await new Promise<number>((resolve) => {
        client.subscribe('picomp/rec-1/meters');
        client.on('message', (_t, payload) => {
          const m = JSON.parse(payload.toString()) as { in_peak: number[] };
          if (Math.max(...m.in_peak) > -30) resolve(Math.max(...m.in_peak));
        });
      });
      assert.ok(level > -30 && level < 0, `input peak ${level} dBFS from the feeder's −12 dBFS tone`);
    } finally {
      client.end(true);
    }

    unit.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => (unit.exitCode !== null ? r(unit.exitCode) : unit.once('exit', (c) => r(c))));
    assert.equal(code, 0, log);
  });
});
