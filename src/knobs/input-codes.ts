/**
 * The few Linux input-event codes a knob needs (from
 * include/uapi/linux/input-event-codes.h), so the config file can say
 * `KEY_ENTER` or `REL_DIAL` instead of a bare number.
 */

export const EV_SYN = 0x00;
export const EV_KEY = 0x01;
export const EV_REL = 0x02;

/** The rotary-encoder overlay's `linux_axis` picks one of these; it defaults to 0 (REL_X). */
export const REL_AXES: Readonly<Record<string, number>> = {
  REL_X: 0x00,
  REL_Y: 0x01,
  REL_Z: 0x02,
  REL_HWHEEL: 0x06,
  REL_DIAL: 0x07,
  REL_WHEEL: 0x08,
  REL_MISC: 0x09,
};

/** Keys the gpio-key overlay is commonly given via `keycode=`. */
export const KEY_CODES: Readonly<Record<string, number>> = {
  KEY_ESC: 1,
  KEY_1: 2, KEY_2: 3, KEY_3: 4, KEY_4: 5, KEY_5: 6, KEY_6: 7, KEY_7: 8, KEY_8: 9, KEY_9: 10, KEY_0: 11,
  KEY_ENTER: 28,
  KEY_SPACE: 57,
  KEY_UP: 103, KEY_LEFT: 105, KEY_RIGHT: 106, KEY_DOWN: 108,
  KEY_MUTE: 113,
  KEY_POWER: 116,
  KEY_PLAYPAUSE: 164,
  KEY_SELECT: 0x161,
  BTN_0: 0x100, BTN_1: 0x101, BTN_2: 0x102, BTN_3: 0x103, BTN_4: 0x104,
  BTN_5: 0x105, BTN_6: 0x106, BTN_7: 0x107, BTN_8: 0x108, BTN_9: 0x109,
};

/** EV_KEY values: the kernel repeats held keys with value 2. */
export const KEY_RELEASED = 0;
export const KEY_PRESSED = 1;
export const KEY_REPEATED = 2;
