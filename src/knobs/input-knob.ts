/**
 * One knob on the `input` backend: EV_REL events of the rotary-encoder
 * device become detents, EV_KEY events of the gpio-key device become
 * button presses, both with the kernel's timestamps.
 */
import { ButtonDebouncer } from './button.js';
import { EV_KEY, EV_REL, KEY_PRESSED, KEY_RELEASED } from './input-codes.js';
import type { InputDeviceReader, InputEvent } from './input-events.js';
import type { InputKnobConfig } from './mapping.js';
import type { KnobSink } from './sysfs-gpio.js';

export class InputKnob {
  readonly #cfg: InputKnobConfig;
  readonly #sink: KnobSink;
  readonly #button: ButtonDebouncer;
  readonly #detach: (() => void)[] = [];

  constructor(cfg: InputKnobConfig, sink: KnobSink) {
    this.#cfg = cfg;
    this.#sink = sink;
    // gpio-keys debounces in the kernel already; this only adds long/short.
    this.#button = new ButtonDebouncer({ debounceMs: 0, longPressMs: cfg.longPressMs });
  }

  /** Listens to the encoder's device and, when configured, the button's (may be the same reader). */
  attach(encoder: InputDeviceReader, button: InputDeviceReader | null): void {
    const onTurn = (ev: InputEvent): void => {
      if (ev.type !== EV_REL || ev.code !== this.#cfg.axis || ev.value === 0) return;
      this.#sink.turn(this.#cfg.reverse ? -ev.value : ev.value, ev.tMs);
    };
    encoder.on('event', onTurn);
    this.#detach.push(() => encoder.off('event', onTurn));
    if (button && this.#cfg.button) {
      const code = this.#cfg.button.code;
      const onKey = (ev: InputEvent): void => {
        // Value 2 is the kernel's auto-repeat of a held key: not a new press.
        if (ev.type !== EV_KEY || ev.code !== code || (ev.value !== KEY_PRESSED && ev.value !== KEY_RELEASED)) return;
        const event = this.#button.update(ev.value === KEY_PRESSED, ev.tMs);
        if (event) this.#sink.button(event);
      };
      button.on('event', onKey);
      this.#detach.push(() => button.off('event', onKey));
    }
  }

  detach(): void {
    for (const off of this.#detach.splice(0)) off();
  }
}
