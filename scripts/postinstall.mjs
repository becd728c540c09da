#!/usr/bin/env node
// npm runs this after `npm install`. The audio driver, naudiodon, is an
// optional dependency: npm leaves it out when it cannot be built (no
// PortAudio), and picomp then runs without sound cards and says how to turn
// them on when it starts. When it is there, check our patch is applied
// (hardware/portaudio.md); patch-package alone would fail on its absence.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

if (existsSync('node_modules/naudiodon/package.json')) {
  const patchPackage = createRequire(import.meta.url).resolve('patch-package/index.js');
  execFileSync(process.execPath, [patchPackage, '--error-on-fail'], { stdio: 'inherit' });
}
