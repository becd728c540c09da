import assert from 'node:assert/strict';
import { isUserError } from '../../src/errors.js';
import { parseKnobsConfig, stepValue } from '../../src/knobs/mapping.js';
import { StatusLed } from '../../src/knobs/status-led.js';
import { paramDef } from '../../src/params/schema.js';

function rejects(config: unknown, pattern: RegExp): void {
  assert.throws(() => parseKnobsConfig(config), (e: Error) => isUserError(e) && pattern.test(e.message));
}

describe('knob config', () => {
  it('fills defaults: full steps, reset on long press, default acceleration, no LED', () => {
    const cfg = parseKnobsConfig({ knobs: [{ backend: 'gpio', pins: { a: 17, b: 18 }, param: 'threshold' }] });
    const k = cfg.knobs[0]!;
    assert.equal(cfg.led, null);
    assert.deepEqual(k.backend === 'gpio' && { pins: k.pins, steps: k.steps, params: k.params, longPress: k.longPress, name: k.name },
      { pins: { a: 17, b: 18, button: null }, steps: 'full', params: ['threshold'], longPress: 'reset', name: 'knob 1' });
    assert.ok(k.acceleration.length > 0);
  });

  it('resolves key and axis names of the input backend', () => {
    const cfg = parseKnobsConfig([{ backend: 'input', device: 'rotary@11', axis: 'REL_DIAL', param: 'ratio', button: { device: 'button@1b', code: 'KEY_ENTER' } }]);
    const k = cfg.knobs[0]!;
    assert.deepEqual(k.backend === 'input' && { axis: k.axis, button: k.button }, { axis: 7, button: { device: 'button@1b', code: 28 } });
  });

  it('takes the input backend (the kernel decodes) when a knob names none', () => {
    const cfg = parseKnobsConfig([{ device: 'rotary@11', param: 'ratio' }]);
    const k = cfg.knobs[0]!;
    assert.equal(k.backend, 'input');
    assert.equal(k.backend === 'input' && k.device, 'rotary@11');
  });

  it('rejects mistakes with sentences that say what to write', () => {
    rejects({ knobs: [{ backend: 'gpio', pins: { a: 40, b: 18 }, param: 'threshold' }] }, /knobs\[0\]\.pins\.a must be a BCM GPIO number from 0 to 27, got 40 \(BCM numbers are not physical pin numbers/);
    rejects({ knobs: [{ backend: 'gpio', pins: { a: 17, b: 18 }, param: 'treshold' }] }, /knobs\[0\]\.param must be a parameter name.*got "treshold"/);
    rejects({ knobs: [{ backend: 'gpio', pins: { a: 17, b: 18 } }] }, /needs param .* or cycle/);
    rejects({ knobs: [{ backend: 'gpio', pins: { a: 17, b: 18 }, param: 'ratio', cycle: ['ratio'] }] }, /both param and cycle/);
    rejects({ knobs: [{ backend: 'gpoi', param: 'ratio' }] }, /backend must be "input" .* or "gpio"/);
    rejects({ knobs: [{ pins: { a: 17, b: 18 }, param: 'ratio' }] }, /pins belongs to the gpio backend/);
    rejects({ knobs: [{ backend: 'gpio', pins: { a: 17, b: 18 }, param: 'ratio', steps: 4 }] }, /steps must be "full"/);
    rejects({ knobs: [{ backend: 'gpio', pins: { a: 17, b: 18 }, param: 'ratio', speed: 2 }] }, /unknown setting "speed"/);
    rejects({ knobs: [{ backend: 'input', device: 'rotary@11', param: 'ratio', pins: { a: 1, b: 2 } }] }, /pins belongs to the gpio backend/);
    rejects({ knobs: [{ backend: 'input', device: 'rotary@11', param: 'ratio', button: { device: 'k', code: 'KEY_ENTR' } }] }, /code must be a key code number or one of/);
    rejects({ knobs: [{ backend: 'gpio', pins: { a: 17, b: 18 }, param: 'ratio', acceleration: [{ below_ms: 50 }] }] }, /acceleration\[0\]\.multiplier must be a number/);
    rejects({ knobs: [{ backend: 'gpio', pins: { a: 17, b: 18 }, param: 'ratio', long_press: 'mute' }] }, /long_press must be "reset"/);
  });

  it('a pin used twice names both users and the physical pin', () => {
    rejects({
      knobs: [{ backend: 'gpio', pins: { a: 17, b: 18, button: 27 }, param: 'ratio' }],
      led: { pin: 27 },
    }, /GPIO 27 \(physical pin 13\) is used twice, by knobs\[0\]\.pins\.button and by led\.pin/);
  });
});

describe('stepping values', () => {
  const threshold = paramDef('threshold');
  const ratio = paramDef('ratio');

  it('moves by the schema step per detent, times the factor', () => {
    assert.equal(stepValue(threshold, -18, 1, 1), -17.5);
    assert.equal(stepValue(threshold, -18, -3, 1), -19.5);
    assert.equal(stepValue(threshold, -18, 1, 10), -13);
    assert.equal(stepValue(ratio, 4, 1, 1), 4.1);
    assert.equal(stepValue(ratio, 4.1, 2, 5), 5.1);
  });

  it('lands on the grid without float noise after many steps', () => {
    let v: number = 1;
    for (let i = 0; i < 33; i++) v = stepValue(ratio, v, 1, 1) as number;
    assert.equal(v, 4.3);
  });

  it('from between grid points the first detent goes to the next grid point in that direction', () => {
    assert.equal(stepValue(threshold, -20.2, 1, 1), -20);
    assert.equal(stepValue(threshold, -20.2, -1, 1), -20.5);
  });

  it('stops at the ends of the range', () => {
    assert.equal(stepValue(threshold, -0.5, 5, 10), 0);
    assert.equal(stepValue(ratio, 1.2, -1, 10), 1);
  });

  it('enums step through their options and stop at the ends; booleans follow the direction', () => {
    const link = paramDef('link');
    assert.equal(stepValue(link, 'max', 1, 1), 'average');
    assert.equal(stepValue(link, 'average', 5, 1), 'none');
    assert.equal(stepValue(link, 'max', -1, 1), 'max');
    assert.equal(stepValue(paramDef('bypass'), false, 1, 1), true);
    assert.equal(stepValue(paramDef('bypass'), true, -2, 1), false);
  });
});

describe('status LED', () => {
  const cfg = { device: null, pin: 22, grThresholdDb: 6, clipHoldMs: 1000, blinkHalfPeriodMs: 100 };

  it('is lit while the deepest channel reduces more than 6 dB', () => {
    const writes: boolean[] = [];
    const led = new StatusLed(cfg, (on) => writes.push(on));
    led.update({ gr: [-2, -5.9], clip_out: [0, 0], t: 0 });
    led.update({ gr: [-2, -6.5], clip_out: [0, 0], t: 50 });
    led.update({ gr: [-7, -1], clip_out: [0, 0], t: 100 });
    led.update({ gr: [0, 0], clip_out: [0, 0], t: 150 });
    assert.deepEqual(writes, [false, true, false]);
  });

  it('blinks every 100 ms for a second after a clipped output sample, then follows GR again', () => {
    const levels: boolean[] = [];
    const led = new StatusLed(cfg, () => undefined);
    for (let t = 0; t <= 1300; t += 50) {
      led.update({ gr: [-10], clip_out: [t === 200 ? 3 : 0], t });
      levels.push(led.on);
    }
    // t = 0..150 lit by GR; 200..1200 blinking (on 200–299, off 300–399, …); 1250 on by GR again.
    assert.deepEqual(levels.map(Number).join(''), '1111' + '110011001100110011001' + '11');
  });
});
