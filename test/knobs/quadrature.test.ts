/**
 * The quadrature decoder and the acceleration curve, fed with generated
 * Gray-code sequences and with the traces in test/fixtures/knobs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Accelerator, DEFAULT_ACCELERATION } from '../../src/knobs/acceleration.js';
import { QuadratureDecoder, type DetentStep, type StepMode } from '../../src/knobs/quadrature.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/knobs/', import.meta.url));

type Reading = readonly [tMs: number, a: number, b: number];

/** Clockwise order of line positions (A, B) with pull-ups, from rest. */
const CW: readonly (readonly [number, number])[] = [[1, 1], [0, 1], [0, 0], [1, 0]];

/** Readings for whole detents, one per transition, `dtMs` apart, starting at rest. */
function generate(detents: number, mode: StepMode, startMs = 0, dtMs = 1): Reading[] {
  const per = mode === 'full' ? 4 : 2;
  const out: Reading[] = [[startMs, 1, 1]];
  let i = 0;
  let t = startMs;
  for (let n = 0; n < Math.abs(detents) * per; n++) {
    i = (i + Math.sign(detents) + 4) % 4;
    t += dtMs;
    out.push([t, CW[i]![0], CW[i]![1]]);
  }
  return out;
}

function feed(decoder: QuadratureDecoder, readings: readonly Reading[]): DetentStep[] {
  const steps: DetentStep[] = [];
  for (const [t, a, b] of readings) {
    const s = decoder.update(a, b, t);
    if (s) steps.push(s);
  }
  return steps;
}

function loadTrace(name: string): Reading[] {
  return readFileSync(FIXTURES + name, 'utf8').split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#') && !l.startsWith('t_ms'))
    .map((l) => {
      const [t, a, b] = l.split(',').map(Number);
      return [t!, a!, b!] as const;
    });
}

const detentsOf = (steps: DetentStep[]): number[] => steps.map((s) => s.detents);

describe('quadrature decoder', () => {
  describe('generated sequences', () => {
    for (const mode of ['full', 'half'] as const) {
      for (const n of [1, 7, -1, -7]) {
        it(`${mode}-step: ${n} detents give exactly ${Math.abs(n)} steps of ${Math.sign(n)}`, () => {
          const steps = feed(new QuadratureDecoder({ mode }), generate(n, mode));
          assert.deepEqual(detentsOf(steps), Array(Math.abs(n)).fill(Math.sign(n)));
        });
      }
    }

    it('full-step: every step is reported at the reading that returns to rest', () => {
      const steps = feed(new QuadratureDecoder({ mode: 'full' }), generate(3, 'full', 100, 2));
      assert.deepEqual(steps.map((s) => s.tMs), [108, 116, 124]);
    });

    it('reverse: swaps the sign for encoders wired A↔B', () => {
      const steps = feed(new QuadratureDecoder({ mode: 'full', reverse: true }), generate(3, 'full'));
      assert.deepEqual(detentsOf(steps), [-1, -1, -1]);
    });

    it('ignores repeated reads of the same position (both lines read on every edge)', () => {
      const readings = generate(2, 'full').flatMap((r) => [r, r, r]);
      assert.deepEqual(detentsOf(feed(new QuadratureDecoder({ mode: 'full' }), readings)), [1, 1]);
    });

    it('a bounce burst on every transition changes nothing: 5 detents stay 5 steps', () => {
      const clean = generate(5, 'full');
      const bouncy: Reading[] = [clean[0]!];
      for (let i = 1; i < clean.length; i++) {
        const prev = clean[i - 1]!;
        const cur = clean[i]!;
        // The changing contact chatters three times before it settles.
        for (let k = 0; k < 3; k++) bouncy.push([cur[0], cur[1], cur[2]], [cur[0], prev[1], prev[2]]);
        bouncy.push(cur);
      }
      const decoder = new QuadratureDecoder({ mode: 'full' });
      assert.deepEqual(detentsOf(feed(decoder, bouncy)), [1, 1, 1, 1, 1]);
      assert.equal(decoder.stats.invalid, 0);
    });

    it('a half turn that comes back gives no step', () => {
      const decoder = new QuadratureDecoder({ mode: 'full' });
      const steps = feed(decoder, [[0, 1, 1], [1, 0, 1], [2, 0, 0], [3, 0, 1], [4, 1, 1]]);
      assert.deepEqual(steps, []);
    });

    it('three quarters forward then back to rest also gives no step', () => {
      const decoder = new QuadratureDecoder({ mode: 'full' });
      const steps = feed(decoder, [[0, 1, 1], [1, 0, 1], [2, 0, 0], [3, 1, 0], [4, 0, 0], [5, 0, 1], [6, 1, 1]]);
      assert.deepEqual(steps, []);
      assert.equal(decoder.stats.abandoned, 0);
    });

    it('a missed edge during a fast turn is recovered from the direction of travel', () => {
      // 11 → 01 → (00 never read) → 10 → 11
      const decoder = new QuadratureDecoder({ mode: 'full' });
      const steps = feed(decoder, [[0, 1, 1], [1, 0, 1], [2, 1, 0], [3, 1, 1]]);
      assert.deepEqual(detentsOf(steps), [1]);
      assert.deepEqual(decoder.stats, { invalid: 1, recovered: 1, abandoned: 0 });
    });

    it('a missed edge with no recent movement is rejected, and the detent is dropped rather than guessed', () => {
      // 11 → 00 straight away: direction unknown.
      const decoder = new QuadratureDecoder({ mode: 'full' });
      const steps = feed(decoder, [[0, 1, 1], [1000, 0, 0], [1001, 1, 0], [1002, 1, 1]]);
      assert.deepEqual(steps, []);
      assert.deepEqual(decoder.stats, { invalid: 1, recovered: 0, abandoned: 1 });
    });

    it('the direction of travel is only trusted within missedEdgeWindowMs', () => {
      const readings: Reading[] = [[0, 1, 1], [1, 0, 1], [100, 1, 0], [101, 1, 1]];
      assert.deepEqual(detentsOf(feed(new QuadratureDecoder({ mode: 'full', missedEdgeWindowMs: 200 }), readings)), [1]);
      assert.deepEqual(detentsOf(feed(new QuadratureDecoder({ mode: 'full', missedEdgeWindowMs: 50 }), readings)), []);
    });

    it('half-step: both 11 and 00 are detents', () => {
      const decoder = new QuadratureDecoder({ mode: 'half' });
      const steps = feed(decoder, [[0, 1, 1], [1, 0, 1], [2, 0, 0], [3, 1, 0], [4, 1, 1], [5, 1, 0], [6, 0, 0]]);
      assert.deepEqual(steps, [{ detents: 1, tMs: 2 }, { detents: 1, tMs: 4 }, { detents: -1, tMs: 6 }]);
    });

    it('a full-step encoder read in half-step mode counts double (why the mode matters)', () => {
      const steps = feed(new QuadratureDecoder({ mode: 'half' }), generate(3, 'full'));
      assert.deepEqual(detentsOf(steps), [1, 1, 1, 1, 1, 1]);
    });

    it('the first reading only sets the position, wherever the knob rests', () => {
      const decoder = new QuadratureDecoder({ mode: 'half' });
      // Starts at 00 (a half-step encoder may rest there), then one detent clockwise.
      assert.deepEqual(feed(decoder, [[0, 0, 0], [1, 1, 0], [2, 1, 1]]), [{ detents: 1, tMs: 2 }]);
    });
  });

  describe('traces in test/fixtures/knobs', () => {
    it('slow-cw-full.csv: 5 steps clockwise, no invalid transitions', () => {
      const decoder = new QuadratureDecoder({ mode: 'full' });
      assert.deepEqual(detentsOf(feed(decoder, loadTrace('slow-cw-full.csv'))), [1, 1, 1, 1, 1]);
      assert.equal(decoder.stats.invalid, 0);
    });

    it('fast-ccw-full.csv: 12 steps counter-clockwise, both missed edges recovered', () => {
      const decoder = new QuadratureDecoder({ mode: 'full' });
      assert.deepEqual(detentsOf(feed(decoder, loadTrace('fast-ccw-full.csv'))), Array(12).fill(-1));
      assert.deepEqual(decoder.stats, { invalid: 2, recovered: 2, abandoned: 0 });
    });

    it('bounce-at-rest.csv: chatter and a half turn give no step', () => {
      const decoder = new QuadratureDecoder({ mode: 'full' });
      assert.deepEqual(feed(decoder, loadTrace('bounce-at-rest.csv')), []);
      assert.equal(decoder.stats.invalid, 0);
    });

    it('half-step-mixed.csv: +4 then −3 in half-step mode', () => {
      const decoder = new QuadratureDecoder({ mode: 'half' });
      assert.deepEqual(detentsOf(feed(decoder, loadTrace('half-step-mixed.csv'))), [1, 1, 1, 1, -1, -1, -1]);
    });

    it('accel-spin.csv: 9 steps with multipliers 1,1,2,5,5,5,5,5,1 on the default curve', () => {
      const steps = feed(new QuadratureDecoder({ mode: 'full' }), loadTrace('accel-spin.csv'));
      assert.deepEqual(detentsOf(steps), Array(9).fill(1));
      const accel = new Accelerator();
      assert.deepEqual(steps.map((s) => accel.multiplier(s.detents, s.tMs)), [1, 1, 2, 5, 5, 5, 5, 5, 1]);
    });
  });
});

describe('acceleration', () => {
  it('picks the stage by the interval since the previous detent', () => {
    const accel = new Accelerator([{ belowMs: 100, multiplier: 2 }, { belowMs: 30, multiplier: 8 }]);
    assert.deepEqual([0, 500, 590, 610, 700, 900].map((t) => accel.multiplier(1, t)), [1, 1, 2, 8, 2, 1]);
  });

  it('a change of direction starts slow again', () => {
    const accel = new Accelerator(DEFAULT_ACCELERATION);
    assert.deepEqual([[1, 0], [1, 10], [1, 20], [-1, 30], [-1, 40]].map(([d, t]) => accel.multiplier(d!, t!)), [1, 5, 5, 1, 5]);
  });

  it('an empty curve never accelerates', () => {
    const accel = new Accelerator([]);
    assert.deepEqual([0, 1, 2].map((t) => accel.multiplier(1, t)), [1, 1, 1]);
  });
});
