/**
 * The gpio backend on a fake /sys/class/gpio tree, with edges driven
 * through a stand-in for onoff's Gpio; everything above (decoder, button,
 * controller, UnitState) is the real code.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { UnitState } from '../../src/unit/unit-state.js';
import { isUserError } from '../../src/errors.js';
import { startKnobs, type RunningKnobs } from '../../src/knobs/knob-controller.js';
import { bcmToSysfs, findHeaderChip, listGpioChips } from '../../src/knobs/sysfs-gpio.js';
import { memoryLogger } from '../../src/log.js';
import { FakeGpioBoard, NEW_KERNEL_PI4, OLD_KERNEL_PI3, PI5, fakeSysfsGpio } from '../helpers/fake-gpio.js';

const roots: string[] = [];
async function tree(chips: Parameters<typeof fakeSysfsGpio>[0]): Promise<string> {
  const root = await fakeSysfsGpio(chips);
  roots.push(root);
  return root;
}

after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

describe('gpio backend: BCM → sysfs numbers', () => {
  it('kernel before 6.6 (Pi 3): base 0, BCM 17 is sysfs 17', async () => {
    const chip = await findHeaderChip(await tree(OLD_KERNEL_PI3));
    assert.equal(chip.label, 'pinctrl-bcm2835');
    assert.equal(bcmToSysfs(17, chip), 17);
  });

  it('kernel 6.6+ (Pi 4): base 512, BCM 17 is sysfs 529', async () => {
    const chip = await findHeaderChip(await tree(NEW_KERNEL_PI4));
    assert.equal(chip.label, 'pinctrl-bcm2711');
    assert.equal(bcmToSysfs(17, chip), 529);
  });

  it('Pi 5: the header is on pinctrl-rp1 at base 571, not the first chip at 512', async () => {
    const root = await tree(PI5);
    assert.equal((await listGpioChips(root)).length, 5);
    const chip = await findHeaderChip(root);
    assert.equal(chip.label, 'pinctrl-rp1');
    assert.equal(bcmToSysfs(17, chip), 588);
    assert.equal(bcmToSysfs(0, chip), 571);
  });

  it('a machine without a Pi GPIO chip gets a UserError naming the chips it has', async () => {
    const root = await tree([{ base: 0, label: 'INT34C5:00', ngpio: 360 }]);
    await assert.rejects(findHeaderChip(root), (e: Error) => isUserError(e) && /no Raspberry Pi header GPIO chip/.test(e.message) && /INT34C5:00/.test(e.message));
  });

  it('a machine without /sys/class/gpio at all gets a UserError suggesting the input backend', async () => {
    await assert.rejects(findHeaderChip('/nonexistent/gpio'), (e: Error) => isUserError(e) && /backend: input/.test(e.message));
  });
});

describe('gpio backend: edges change the unit state', () => {
  let knobs: RunningKnobs | null = null;
  afterEach(async () => {
    await knobs?.stop();
    knobs = null;
  });

  async function setup(chips = NEW_KERNEL_PI4, config: unknown = {
    knobs: [{ backend: 'gpio', pins: { a: 17, b: 18, button: 27 }, param: 'threshold', acceleration: false }],
  }) {
    const board = new FakeGpioBoard();
    const log = memoryLogger();
    const state = await UnitState.load({ stateDir: null, log });
    let clock = 1000;
    const changes: { source: string; changed: readonly string[] }[] = [];
    state.on('change', (e) => changes.push({ source: e.source, changed: e.changed }));
    knobs = await startKnobs(config, state, log, { gpio: board.factory, gpioRoot: await tree(chips), now: () => clock });
    return { board, state, log, changes, advance: (ms: number) => { clock += ms; } };
  }

  it('opens the translated sysfs lines, inputs with both edges, and watches them', async () => {
    const { board } = await setup();
    assert.deepEqual([...board.opened.keys()].sort(), [529, 530, 539]);
    for (const n of [529, 530, 539]) {
      assert.deepEqual({ ...board.opened.get(n)! }, { direction: 'in', edge: 'both', unexported: false });
      assert.equal(board.watcherCount(n), 1);
    }
  });

  it('three detents clockwise raise threshold by 3 × 0.5 dB, each through UnitState as a knob change', async () => {
    const { board, state, changes, advance } = await setup();
    for (let i = 0; i < 3; i++) { advance(300); board.turn(529, 530, 1); }
    assert.equal(state.params.threshold, -16.5);
    assert.deepEqual(changes, Array(3).fill({ source: 'knob', changed: ['threshold'] }));
    for (let i = 0; i < 5; i++) { advance(300); board.turn(529, 530, -1); }
    assert.equal(state.params.threshold, -19);
  });

  it('on an old kernel the same pins are sysfs 17, 18, 27', async () => {
    const { board, state } = await setup(OLD_KERNEL_PI3);
    assert.deepEqual([...board.opened.keys()].sort((x, y) => x - y), [17, 18, 27]);
    board.turn(17, 18, 2);
    assert.equal(state.params.threshold, -17);
  });

  it('on a Pi 5 the same pins are sysfs 588, 589, 598', async () => {
    const { board, state } = await setup(PI5);
    assert.deepEqual([...board.opened.keys()].sort((x, y) => x - y), [588, 589, 598]);
    board.turn(588, 589, -4);
    assert.equal(state.params.threshold, -20);
  });

  it('bounce on line A at rest moves nothing', async () => {
    const { board, changes } = await setup();
    for (let i = 0; i < 10; i++) { board.set(529, 0); board.set(529, 1); }
    assert.deepEqual(changes, []);
  });

  it('turning while the button is held moves in coarse steps (10 × 0.5 dB) and is not a click', async () => {
    const { board, state, advance } = await setup();
    board.set(539, 0); // pressed: the switch pulls the line low
    advance(300);
    board.turn(529, 530, 2);
    advance(2000);
    board.set(539, 1);
    assert.equal(state.params.threshold, -8);
  });

  it('a long press puts the parameter back to its default; a short one does nothing without a cycle', async () => {
    const { board, state, advance } = await setup();
    board.turn(529, 530, 4);
    assert.equal(state.params.threshold, -16);
    board.set(539, 0); advance(200); board.set(539, 1); advance(200);
    assert.equal(state.params.threshold, -16);
    board.set(539, 0); advance(1200); board.set(539, 1);
    assert.equal(state.params.threshold, -18);
  });

  it('the knob stops at the end of the range: 200 detents down from −18 end at −60 dBFS', async () => {
    const { board, state, changes } = await setup();
    board.turn(529, 530, -200);
    assert.equal(state.params.threshold, -60);
    assert.equal(changes.length, 84);
    board.turn(529, 530, -3);
    assert.equal(changes.length, 84);
  });

  it('cycle mode: a short press moves to the next parameter, and the turn follows it', async () => {
    const { board, state, advance, log } = await setup(NEW_KERNEL_PI4, {
      knobs: [{ backend: 'gpio', pins: { a: 17, b: 18, button: 27 }, cycle: ['threshold', 'ratio', 'detector'], acceleration: false }],
    });
    const click = (): void => { board.set(539, 0); advance(150); board.set(539, 1); advance(150); };
    board.turn(529, 530, 2);
    click();
    board.turn(529, 530, 3);
    click();
    board.turn(529, 530, 1);
    click();
    board.turn(529, 530, -1);
    assert.deepEqual({ t: state.params.threshold, r: state.params.ratio, d: state.params.detector }, { t: -17.5, r: 4.3, d: 'rms' });
    assert.ok(log.lines.some((l) => l.includes('knob 1 now turns Ratio (ratio).')));
  });

  it('long_press: bypass toggles bypass instead', async () => {
    const { board, state, advance } = await setup(NEW_KERNEL_PI4, {
      knobs: [{ backend: 'gpio', pins: { a: 17, b: 18, button: 27 }, param: 'ratio', long_press: 'bypass' }],
    });
    board.set(539, 0); advance(1000); board.set(539, 1); advance(100);
    assert.equal(state.params.bypass, true);
    board.set(539, 0); advance(1000); board.set(539, 1);
    assert.equal(state.params.bypass, false);
  });

  it('a fast spin accelerates: 10 detents 10 ms apart move ratio by 1 + 9 × 5 steps of 0.1', async () => {
    const { board, state, advance } = await setup(NEW_KERNEL_PI4, {
      knobs: [{ backend: 'gpio', pins: { a: 17, b: 18 }, param: 'ratio' }],
    });
    for (let i = 0; i < 10; i++) { advance(10); board.turn(529, 530, 1); }
    assert.equal(state.params.ratio, 8.6);
  });

  it('two encoders and the status LED on the same board', async () => {
    const { board, state, advance } = await setup(NEW_KERNEL_PI4, {
      knobs: [
        { backend: 'gpio', pins: { a: 17, b: 18, button: 27 }, param: 'threshold' },
        { backend: 'gpio', pins: { a: 23, b: 24, button: 25 }, param: 'ratio', reverse: true },
      ],
      led: { pin: 22, gr_threshold_db: 6 },
    });
    advance(500); board.turn(535, 536, 1);
    advance(500); board.turn(529, 530, 1);
    assert.deepEqual([state.params.threshold, state.params.ratio], [-17.5, 3.9]);
    assert.deepEqual(board.opened.get(534), { direction: 'out', edge: 'none', unexported: false });
    assert.deepEqual(board.writes.get(534), [0]);
  });

  it('stop() unwatches and unexports every line and turns the LED off', async () => {
    const { board } = await setup(NEW_KERNEL_PI4, {
      knobs: [{ backend: 'gpio', pins: { a: 17, b: 18, button: 27 }, param: 'threshold' }],
      led: { pin: 22 },
    });
    knobs!.updateMeters({ gr: [-9, -2], clip_out: [0, 0], t: 0 });
    await knobs!.stop();
    knobs = null;
    for (const n of [529, 530, 539, 534]) {
      assert.equal(board.opened.get(n)!.unexported, true, `sysfs ${n} unexported`);
      assert.equal(board.watcherCount(n), 0);
    }
    assert.deepEqual(board.writes.get(534), [0, 1, 0]);
  });

  it('a pin that cannot be opened is a UserError, and lines opened before it are released', async () => {
    const board = new FakeGpioBoard();
    board.failing.set(530, 'EACCES');
    const log = memoryLogger();
    const state = await UnitState.load({ stateDir: null, log });
    const root = await tree(NEW_KERNEL_PI4);
    await assert.rejects(
      startKnobs({ knobs: [{ backend: 'gpio', pins: { a: 17, b: 18 }, param: 'threshold' }] }, state, log, { gpio: board.factory, gpioRoot: root }),
      (e: Error) => isUserError(e) && /GPIO 18 \(physical pin 12\)/.test(e.message) && /gpio group/.test(e.message),
    );
    assert.equal(board.opened.get(529)!.unexported, true);
  });
});
