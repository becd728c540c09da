/**
 * The status LED as a kernel LED: the gpio-led overlay
 * (`dtoverlay=gpio-led,gpio=22,label=picomp` in config.txt) gives the pin to
 * the kernel's LED driver, and on and off are writes to
 * /sys/class/leds/<label>/brightness. No npm package, no native addon, and
 * the pin stays the kernel's (the sysfs GPIO interface onoff needs is
 * deprecated upstream; docs/knobs.md).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';

export const DEFAULT_LED_ROOT = '/sys/class/leds';

export interface KernelLed {
  set(on: boolean): void;
  close(): void;
}

/** Opens the LED's brightness file once; each change is one small write to it. */
export function openKernelLed(name: string, root: string = DEFAULT_LED_ROOT): KernelLed {
  const dir = join(root, name);
  let fd: number;
  let onValue: string;
  try {
    // A gpio LED's max_brightness is 1; a PWM one may be higher: full on either way.
    onValue = readFileSync(join(dir, 'max_brightness'), 'utf8').trim() || '1';
    fd = openSync(join(dir, 'brightness'), 'r+');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new UserError(`picomp may not switch the kernel LED "${name}" (${join(dir, 'brightness')} is not writable for this user); docs/knobs.md shows the udev rule that allows it.`);
    }
    throw new UserError(`there is no kernel LED "${name}" in ${root}; add dtoverlay=gpio-led,gpio=<BCM pin>,label=${name} to /boot/firmware/config.txt and reboot, or give led.pin instead.`);
  }
  let open = true;
  return {
    set(on: boolean): void {
      if (open) writeSync(fd, on ? onValue : '0', 0);
    },
    close(): void {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}
