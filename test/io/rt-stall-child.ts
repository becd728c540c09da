/**
 * Child process for test/io/jack.test.ts: a duplex RtStream on the JACK
 * server its environment names, copying input to output block by block.
 * On {type:'stall', ms} its processing thread sleeps that long (the
 * PortAudio callback keeps running), as a thread delayed by load would.
 * Replies to {type:'stats'} with the stream's counters; {type:'stop'} ends it.
 */
import { findDevice, openRealtime } from '../../src/io/audio-device.js';

type Command = { type: 'stall'; ms: number } | { type: 'stats' } | { type: 'stop' };

const BLOCK = 128;
const CHANNELS = 2;
const device = findDevice('system', 'input');
const rt = openRealtime({
  inputDeviceId: device.index, outputDeviceId: device.index, channels: CHANNELS, sampleRate: 48000, framesPerBlock: BLOCK,
  queueBlocks: 2, deadline: 'strict', clientName: 'picomp-stall',
});
const block = new Float32Array(BLOCK * CHANNELS);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let stallMs = 0;
let stopping = false;

process.on('message', (m: Command) => {
  if (m.type === 'stall') stallMs = m.ms;
  else if (m.type === 'stats') process.send!({ type: 'stats', stats: rt.stats() });
  else stopping = true;
});

rt.promote(1);
rt.start();
const slice = (): void => {
  if (stopping) { rt.close(); process.disconnect(); return; }
  const until = Date.now() + 50;
  while (Date.now() < until) {
    rt.wait(10);
    while (rt.read(block)) rt.write(block);
  }
  if (stallMs > 0) { Atomics.wait(sleeper, 0, 0, stallMs); stallMs = 0; }
  setImmediate(slice);
};
slice();
process.send!({ type: 'ready' });
