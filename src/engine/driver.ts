/**
 * What drives a BlockRunner: the clock-paced loop or a PortAudio device.
 * Its own module so the device driver and the worker can both name it
 * without importing each other.
 */
export interface Driver {
  stop(): Promise<void>;
}
