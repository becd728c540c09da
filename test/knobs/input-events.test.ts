/**
 * The input backend end to end: real binary `struct input_event` records
 * written into a FIFO, read by the real reader, through the controller
 * into UnitState.
 */
import assert from 'node:assert/strict';
import { UnitState } from '../../src/unit/unit-state.js';
import { isUserError } from '../../src/errors.js';
import { EV_KEY, EV_REL, KEY_CODES, REL_AXES } from '../../src/knobs/input-codes.js';
import {
  decodeInputEvent, encodeInputEvent, findInputDevice, inputEventSize, type InputEventSize,
} from '../../src/knobs/input-events.js';
import { startKnobs, type RunningKnobs } from '../../src/knobs/knob-controller.js';
import { memoryLogger } from '../../src/log.js';
import { fakeInputTree, until, type FakeInputTree } from '../helpers/input-device-fifo.js';

describe('input_event records', () => {
  it('24-byte layout (64-bit): timeval 16 bytes, then type, code, value', () => {
    const buf = encodeInputEvent({ tMs: 1_700_000_000_123.456, type: EV_REL, code: 7, value: -3 }, 24);
    assert.equal(buf.length, 24);
    assert.equal(buf.readBigInt64LE(0), 1_700_000_000n);
    assert.equal(buf.readBigInt64LE(8), 123_456n);
    assert.deepEqual([buf.readUInt16LE(16), buf.readUInt16LE(18), buf.readInt32LE(20)], [2, 7, -3]);
  });

  it('16-byte layout (32-bit ARM): timeval 8 bytes', () => {
    const buf = encodeInputEvent({ tMs: 5_000.25, type: EV_KEY, code: 28, value: 1 }, 16);
    assert.equal(buf.length, 16);
    assert.deepEqual([buf.readUInt32LE(0), buf.readUInt32LE(4), buf.readUInt16LE(8), buf.readUInt16LE(10), buf.readInt32LE(12)], [5, 250, 1, 28, 1]);
    assert.deepEqual(decodeInputEvent(buf, 0, 16), { tMs: 5000.25, type: 1, code: 28, value: 1 });
  });

  it('the size follows the process architecture', () => {
    assert.deepEqual(['arm64', 'x64', 'arm', 'ia32'].map((a) => inputEventSize(a)), [24, 24, 16, 16]);
  });
});

describe('input backend: device lookup', () => {
  let tree: FakeInputTree;
  before(async () => { tree = await fakeInputTree(24); await tree.addDevice('rotary@11'); });
  after(async () => { await tree.remove(); });

  it('finds /dev/input/eventN by the name in /sys/class/input/eventN/device/name', async () => {
    assert.equal(await findInputDevice('rotary@11', tree), `${tree.devRoot}/event1`);
  });

  it('an unknown name is a UserError listing the devices that exist', async () => {
    await assert.rejects(findInputDevice('rotary@17', tree), (e: Error) => isUserError(e) && /"vc4-hdmi-0", "rotary@11"/.test(e.message) && /config\.txt/.test(e.message));
  });

  it('a path is used as it is', async () => {
    assert.equal(await findInputDevice('/dev/input/by-path/platform-rotary@11-event', tree), '/dev/input/by-path/platform-rotary@11-event');
  });
});

for (const size of [24, 16] as InputEventSize[]) {
  describe(`input backend end to end through a FIFO (${size}-byte records)`, () => {
    let tree: FakeInputTree;
    let knobs: RunningKnobs | null = null;
    beforeEach(async () => { tree = await fakeInputTree(size); });
    afterEach(async () => {
      await knobs?.stop();
      knobs = null;
      await tree.remove();
    });

    it('REL steps turn threshold, KEY presses switch in cycle mode and reset on a long press', async () => {
      const rotary = await tree.addDevice('rotary@11');
      const keys = await tree.addDevice('button@1b');
      const log = memoryLogger();
      const state = await UnitState.load({ stateDir: null, log });
      const sources: string[] = [];
      state.on('change', (e) => sources.push(e.source));
      knobs = await startKnobs({
        knobs: [{
          backend: 'input', device: 'rotary@11', cycle: ['threshold', 'ratio'],
          button: { device: 'button@1b', code: 'KEY_ENTER' }, acceleration: false,
        }],
      }, state, log, { inputSysRoot: tree.sysRoot, inputDevRoot: tree.devRoot, inputEventSize: size });
      await rotary.connect();
      await keys.connect();

      const t0 = 1_700_000_000_000;
      for (let i = 0; i < 4; i++) await rotary.turn(1, t0 + i * 200);
      await until(() => state.params.threshold === -16, 'threshold at -16');

      // A short press switches the knob to ratio; the kernel's key timestamps decide short/long.
      await keys.key(KEY_CODES.KEY_ENTER!, true, t0 + 1000);
      await keys.key(KEY_CODES.KEY_ENTER!, false, t0 + 1150);
      // Two devices are two streams: wait for the click before turning again.
      await until(() => knobs!.controllers[0]!.param === 'ratio', 'the knob to switch to ratio');
      await rotary.turn(-1, t0 + 1300);
      await rotary.turn(-2, t0 + 1500);
      await until(() => state.params.ratio === 3.7, 'ratio at 3.7');

      // Held 1.2 s: ratio goes back to its default.
      await keys.key(KEY_CODES.KEY_ENTER!, true, t0 + 2000);
      await keys.key(KEY_CODES.KEY_ENTER!, false, t0 + 3200);
      await until(() => state.params.ratio === 4, 'ratio back at 4');
      assert.equal(state.params.threshold, -16);
      assert.ok(sources.length >= 3 && sources.every((s) => s === 'knob'));
    });

    it('events of another axis, other keys and auto-repeat are ignored; records split across writes still decode', async () => {
      const rotary = await tree.addDevice('rotary@11');
      const log = memoryLogger();
      const state = await UnitState.load({ stateDir: null, log });
      knobs = await startKnobs({
        knobs: [{ backend: 'input', device: 'rotary@11', axis: 'REL_DIAL', param: 'makeup', acceleration: false,
          button: { device: 'rotary@11', code: 'KEY_ENTER' } }],
      }, state, log, { inputSysRoot: tree.sysRoot, inputDevRoot: tree.devRoot, inputEventSize: size });
      await rotary.connect();
      const t = 1_700_000_000_000;
      await rotary.turn(5, t, REL_AXES.REL_X); // wrong axis
      await rotary.write([{ tMs: t + 10, type: EV_KEY, code: KEY_CODES.KEY_SPACE!, value: 1 }]); // other key
      await rotary.write([{ tMs: t + 20, type: EV_KEY, code: KEY_CODES.KEY_ENTER!, value: 2 }]); // repeat of a key never pressed
      // One REL_DIAL step of +3, handed over in two writes that split the record.
      const rec = encodeInputEvent({ tMs: t + 500, type: EV_REL, code: REL_AXES.REL_DIAL!, value: 3 }, size);
      await rotary.writeRaw(rec.subarray(0, 5));
      await rotary.writeRaw(rec.subarray(5));
      await until(() => state.params.makeup !== 0, 'makeup to move');
      assert.equal(state.params.makeup, 1.5);
    });
  });
}
