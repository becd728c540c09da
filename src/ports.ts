/**
 * Ports people's machines already use: picomp's defaults (1883, 1880) are
 * those of Mosquitto and Node-RED, which many Home Assistant users run.
 * When one is taken, the error names a free one nearby, found here.
 */
import { createServer } from 'node:net';

/** How far above a taken port to look for a free one to suggest. */
const SEARCH_SPAN = 20;

function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** The first free port after `port` (within a few), or null when none is. */
export async function nearbyFreePort(host: string, port: number): Promise<number | null> {
  for (let p = port + 1; p <= Math.min(65535, port + SEARCH_SPAN); p++) {
    if (await isFree(host, p)) return p;
  }
  return null;
}

/** The loopback address other programs on this machine reach a listener on `host` at. */
export function localAddressOf(host: string): string {
  if (host === '0.0.0.0' || host === '' ) return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
