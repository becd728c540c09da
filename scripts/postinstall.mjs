#!/usr/bin/env node
// npm runs this after `npm install`. The audio driver, naudiodon, is an
// optional dependency: npm leaves it out when it cannot be built (no
// PortAudio), and picomp then runs without sound cards and says how to turn
// them on when it starts. When it is there, check our patch is applied
// (hardware/portaudio.md); patch-package alone would fail on its absence.
// npm does not rebuild an installed naudiodon when only our patch changed
// (a `git pull`): the build records the patch's hash, and a different one
// here gets one line saying how to rebuild, not patch-package's failure.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const NAUDIODON_DIR = 'node_modules/naudiodon';

if (existsSync(NAUDIODON_DIR + '/package.json')) {
  const require = createRequire(import.meta.url);
  const { REBUILD_COMMAND, builtHash, patchHash } = require('./node-gyp-shim/patch-hash.cjs');
  const built = builtHash(NAUDIODON_DIR);
  if (built !== null && built !== patchHash('.')) {
    process.stderr.write(`picomp: node_modules/naudiodon was built with another version of patches/naudiodon+*.patch; rebuild it: ${REBUILD_COMMAND}\n`);
  } else {
    // No hash: built before hashes were recorded; patch-package says whether the patch is the one applied.
    const patchPackage = require.resolve('patch-package/index.js');
    try {
      execFileSync(process.execPath, [patchPackage, '--error-on-fail'], { stdio: 'inherit' });
    } catch {
      process.stderr.write(`picomp: the naudiodon patch does not apply to the installed node_modules/naudiodon; rebuild it: ${REBUILD_COMMAND}\n`);
      process.exit(1);
    }
  }
}
