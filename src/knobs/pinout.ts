/**
 * The Raspberry Pi 40-pin header: which physical pin carries which BCM
 * GPIO. Students count physical pins on the board but software speaks BCM,
 * so every message about a pin names both.
 */

/** BCM GPIO number → physical header pin (same on every 40-pin Pi, 1 B+ to 5). */
export const BCM_TO_PHYSICAL: Readonly<Record<number, number>> = {
  0: 27, 1: 28, 2: 3, 3: 5, 4: 7, 5: 29, 6: 31, 7: 26, 8: 24, 9: 21,
  10: 19, 11: 23, 12: 32, 13: 33, 14: 8, 15: 10, 16: 36, 17: 11, 18: 12, 19: 35,
  20: 38, 21: 40, 22: 15, 23: 16, 24: 18, 25: 22, 26: 37, 27: 13,
};

export const MAX_BCM_GPIO = 27;

/** "GPIO 17 (physical pin 11)". */
export function describePin(bcm: number): string {
  const physical = BCM_TO_PHYSICAL[bcm];
  return physical === undefined ? `GPIO ${bcm}` : `GPIO ${bcm} (physical pin ${physical})`;
}
