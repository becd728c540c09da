#!/usr/bin/env node
/*
 * npm runs a dependency's install script with node_modules/.bin ahead of
 * its own node-gyp on the PATH, so this file is the `node-gyp` every native
 * dependency's `node-gyp rebuild` calls. For naudiodon it first applies our
 * patches (patch-package): unpatched, naudiodon links the PortAudio it
 * bundles, built for x86 only, which fails on a 64-bit Pi; patched, it
 * links the system libportaudio (hardware/portaudio.md). Then, for every
 * package, npm's own node-gyp does the build.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { recordBuiltHash } = require('./patch-hash.cjs');

const projectRoot = join(__dirname, '..', '..');

function buildingPackage() {
  try {
    return JSON.parse(readFileSync('package.json', 'utf8')).name;
  } catch {
    return null;
  }
}

if (buildingPackage() === 'naudiodon') {
  const patchPackage = require.resolve('patch-package/index.js', { paths: [projectRoot] });
  execFileSync(process.execPath, [patchPackage, '--error-on-fail'], { cwd: projectRoot, stdio: 'inherit' });
  // Recorded before the build: a failed build leaves no naudiodon (it is optional) to compare with.
  recordBuiltHash(projectRoot, process.cwd());
}

// npm tells scripts where its node-gyp is; outside npm, look beside npm.
const npmNodeGyp = process.env.npm_config_node_gyp && !process.env.npm_config_node_gyp.startsWith(__dirname)
  ? process.env.npm_config_node_gyp
  : require.resolve('node-gyp/bin/node-gyp.js', {
    paths: [process.env.npm_execpath ? join(dirname(process.env.npm_execpath), '..') : projectRoot],
  });
require(npmNodeGyp);
