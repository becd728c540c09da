/**
 * The status LED as a kernel LED (gpio-led overlay): a temporary folder
 * stands in for /sys/class/leds (the lowest layer, the brightness file);
 * the LED logic, the knob controller and UnitState are the real code, and
 * neither onoff nor sysfs GPIO is touched.
 */
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserError } from '../../src/errors.js';
import { startKnobs } from '../../src/knobs/knob-controller.js';
import { parseKnobsConfig } from '../../src/knobs/mapping.js';
import { memoryLogger } from '../../src/log.js';
import { UnitState } from '../../src/unit/unit-state.js';

describe('status LED on a kernel LED (/sys/class/leds)', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'picomp-leds-'));
    await mkdir(join(root, 'picomp'));
    await writeFile(join(root, 'picomp', 'max_brightness'), '1\n');
    await writeFile(join(root, 'picomp', 'brightness'), '0');
  });
  after(() => rm(root, { recursive: true, force: true }));

  const brightness = (): Promise<string> => readFile(join(root, 'picomp', 'brightness'), 'utf8');

  it('lights while the gain reduction is deep and is switched off at stop', async () => {
    const log = memoryLogger();
    const state = await UnitState.load({ stateDir: null, log });
    const knobs = await startKnobs({ led: { device: 'picomp', gr_threshold_db: 6 } }, state, log, { ledRoot: root });
    try {
      knobs.updateMeters({ gr: [-9, -2], clip_out: [0, 0], t: 0 });
      assert.equal(await brightness(), '1');
      knobs.updateMeters({ gr: [-1, -2], clip_out: [0, 0], t: 50 });
      assert.equal(await brightness(), '0');
      knobs.updateMeters({ gr: [-9, -2], clip_out: [0, 0], t: 100 });
    } finally {
      await knobs.stop();
    }
    assert.equal(await brightness(), '0');
  });

  it('names the overlay line when the LED does not exist', async () => {
    const log = memoryLogger();
    const state = await UnitState.load({ stateDir: null, log });
    await assert.rejects(startKnobs({ led: { device: 'status' } }, state, log, { ledRoot: root }),
      (e: Error) => isUserError(e) && /dtoverlay=gpio-led,gpio=<BCM pin>,label=status/.test(e.message));
  });

  it('takes device or pin, not both, and a device name without slashes', () => {
    assert.throws(() => parseKnobsConfig({ led: { device: 'picomp', pin: 22 } }), (e: Error) => isUserError(e) && /not both/.test(e.message));
    assert.throws(() => parseKnobsConfig({ led: { device: '../x' } }), (e: Error) => isUserError(e) && /led\.device must be the name of a kernel LED/.test(e.message));
    assert.deepEqual(parseKnobsConfig({ led: { device: 'picomp' } }).led?.pin, null);
  });
});
