/**
 * Push-button debouncing and short/long press, from timestamped levels.
 *
 * A level change is accepted at once, then the contact is ignored for
 * `debounceMs` while it bounces. Whoever feeds the button re-reads the
 * level once that lock-out has passed (see `needsSettle`), so a change that
 * happened during it (a very short tap) is not lost. Pure: no clock inside.
 */

export interface ButtonOptions {
  /** Contact bounce of a KY-040 push switch lasts a few milliseconds. */
  readonly debounceMs?: number;
  /** Held at least this long counts as a long press. */
  readonly longPressMs?: number;
}

export const DEFAULT_DEBOUNCE_MS = 20;
export const DEFAULT_LONG_PRESS_MS = 800;

export type ButtonEvent =
  | { readonly type: 'press'; readonly tMs: number }
  | { readonly type: 'release'; readonly tMs: number; readonly heldMs: number; readonly press: 'short' | 'long' };

export class ButtonDebouncer {
  readonly debounceMs: number;
  readonly longPressMs: number;
  #pressed = false;
  #changedMs = -Infinity;
  #pressedMs = 0;
  #rawPressed = false;

  constructor(opts: ButtonOptions = {}) {
    this.debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.longPressMs = opts.longPressMs ?? DEFAULT_LONG_PRESS_MS;
  }

  get pressed(): boolean {
    return this.#pressed;
  }

  /** True when the last raw level differs from the accepted one: read again after the lock-out. */
  get needsSettle(): boolean {
    return this.#rawPressed !== this.#pressed;
  }

  /** Feeds the contact level (true = pressed) read at `tMs`. */
  update(pressed: boolean, tMs: number): ButtonEvent | null {
    this.#rawPressed = pressed;
    if (pressed === this.#pressed) return null;
    if (tMs - this.#changedMs < this.debounceMs) return null;
    this.#pressed = pressed;
    this.#changedMs = tMs;
    if (pressed) {
      this.#pressedMs = tMs;
      return { type: 'press', tMs };
    }
    const heldMs = tMs - this.#pressedMs;
    return { type: 'release', tMs, heldMs, press: heldMs >= this.longPressMs ? 'long' : 'short' };
  }
}
