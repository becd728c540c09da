/**
 * The audio driver (naudiodon) is optional: npm skips it without PortAudio.
 * `npm test` installs PortAudio and builds it when it can
 * (scripts/test-setup.sh), so a suite that needs it is skipped only where
 * that was impossible, with one line saying how to enable it.
 */
import { ENABLE_SOUND_CARDS, audioDriverInstalled } from '../../src/io/naudiodon-loader.js';

let explained = false;

/** Call from a suite's `before` hook: skips the whole suite when the driver is not installed. */
export function requireAudioDriver(ctx: Mocha.Context): void {
  if (audioDriverInstalled()) return;
  if (!explained) console.log(`      skipped: the audio driver is not installed; ${ENABLE_SOUND_CARDS}.`);
  explained = true;
  ctx.skip();
}
