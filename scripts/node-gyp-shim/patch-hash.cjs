/*
 * Which version of our naudiodon patches an installed naudiodon was built
 * with. npm never rebuilds an installed dependency whose version did not
 * change, so after a `git pull` that changes patches/naudiodon+*.patch the
 * addon in node_modules is stale (and patch-package cannot apply the new
 * patch over the old one). The shim records the patches' hash beside the
 * addon when it builds; postinstall compares.
 */
'use strict';
const { createHash } = require('node:crypto');
const { readFileSync, readdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

/** Beside the addon, so removing node_modules/naudiodon removes it too. */
const BUILT_HASH_FILE = '.picomp-patch-sha256';
const REBUILD_COMMAND = 'rm -rf node_modules/naudiodon && npm install';

/** SHA-256 of every patches/naudiodon+*.patch of the project, in name order (null when there is none). */
function patchHash(projectRoot) {
  const dir = join(projectRoot, 'patches');
  let names;
  try {
    names = readdirSync(dir).filter((n) => /^naudiodon\+.*\.patch$/.test(n)).sort();
  } catch {
    return null;
  }
  if (names.length === 0) return null;
  const hash = createHash('sha256');
  for (const n of names) hash.update(n + '\0').update(readFileSync(join(dir, n)));
  return hash.digest('hex');
}

/** The hash recorded when the naudiodon in packageDir was built, or null. */
function builtHash(packageDir) {
  try {
    return readFileSync(join(packageDir, BUILT_HASH_FILE), 'utf8').trim();
  } catch {
    return null;
  }
}

function recordBuiltHash(projectRoot, packageDir) {
  const hash = patchHash(projectRoot);
  if (hash) writeFileSync(join(packageDir, BUILT_HASH_FILE), hash + '\n');
}

module.exports = { BUILT_HASH_FILE, REBUILD_COMMAND, patchHash, builtHash, recordBuiltHash };
