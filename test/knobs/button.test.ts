import assert from 'node:assert/strict';
import { ButtonDebouncer, type ButtonEvent } from '../../src/knobs/button.js';

function feed(button: ButtonDebouncer, levels: readonly (readonly [number, boolean])[]): ButtonEvent[] {
  const out: ButtonEvent[] = [];
  for (const [t, pressed] of levels) {
    const e = button.update(pressed, t);
    if (e) out.push(e);
  }
  return out;
}

describe('push button', () => {
  it('a clean short press: press, then release marked short with its hold time', () => {
    const events = feed(new ButtonDebouncer({ debounceMs: 20, longPressMs: 800 }), [[1000, true], [1150, false]]);
    assert.deepEqual(events, [
      { type: 'press', tMs: 1000 },
      { type: 'release', tMs: 1150, heldMs: 150, press: 'short' },
    ]);
  });

  it('held 800 ms or more is a long press', () => {
    const b = new ButtonDebouncer({ debounceMs: 20, longPressMs: 800 });
    assert.deepEqual(feed(b, [[0, true], [799, false]]).at(-1), { type: 'release', tMs: 799, heldMs: 799, press: 'short' });
    assert.deepEqual(feed(b, [[2000, true], [2800, false]]).at(-1), { type: 'release', tMs: 2800, heldMs: 800, press: 'long' });
  });

  it('bounce bursts at press and release give one press and one release', () => {
    const levels: [number, boolean][] = [
      [0, true], [0.3, false], [0.7, true], [1.2, false], [2, true],
      [300, false], [300.4, true], [300.9, false], [301.5, true], [302, false],
    ];
    const b = new ButtonDebouncer({ debounceMs: 20 });
    assert.deepEqual(feed(b, levels), [
      { type: 'press', tMs: 0 },
      { type: 'release', tMs: 300, heldMs: 300, press: 'short' },
    ]);
    assert.equal(b.needsSettle, false);
  });

  it('a level left changed inside the lock-out asks to be read again, and that read is accepted', () => {
    const b = new ButtonDebouncer({ debounceMs: 20 });
    assert.deepEqual(feed(b, [[0, true], [5, false]]), [{ type: 'press', tMs: 0 }]);
    assert.equal(b.needsSettle, true);
    assert.deepEqual(b.update(false, 21), { type: 'release', tMs: 21, heldMs: 21, press: 'short' });
    assert.equal(b.needsSettle, false);
  });

  it('repeated reads of the same level are no events', () => {
    assert.deepEqual(feed(new ButtonDebouncer(), [[0, false], [50, false], [100, true], [150, true]]), [{ type: 'press', tMs: 100 }]);
  });
});
