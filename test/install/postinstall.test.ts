/**
 * scripts/postinstall.mjs against a naudiodon built with an older patch: a
 * fake project in a temp dir (the scripts copied in, patch-package linked
 * from ours, a tiny naudiodon and patch), never the real node_modules.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const patchHashModule = createRequire(import.meta.url)(join(REPO, 'scripts/node-gyp-shim/patch-hash.cjs')) as {
  BUILT_HASH_FILE: string; REBUILD_COMMAND: string;
  patchHash(root: string): string | null; builtHash(dir: string): string | null; recordBuiltHash(root: string, dir: string): void;
};
const { BUILT_HASH_FILE, REBUILD_COMMAND, patchHash, builtHash, recordBuiltHash } = patchHashModule;

const patchTo = (from: string, to: string): string => [
  'diff --git a/node_modules/naudiodon/index.js b/node_modules/naudiodon/index.js',
  'index 1111111..2222222 100644',
  '--- a/node_modules/naudiodon/index.js',
  '+++ b/node_modules/naudiodon/index.js',
  '@@ -1 +1 @@',
  `-module.exports = '${from}';`,
  `+module.exports = '${to}';`,
  '',
].join('\n');

describe('postinstall with an installed naudiodon', () => {
  let root: string;
  let naudiodon: string;
  const indexJs = (): string => readFileSync(join(naudiodon, 'index.js'), 'utf8');

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'picomp-postinstall-'));
    naudiodon = join(root, 'node_modules/naudiodon');
    mkdirSync(naudiodon, { recursive: true });
    mkdirSync(join(root, 'patches'));
    mkdirSync(join(root, 'scripts/node-gyp-shim'), { recursive: true });
    cpSync(join(REPO, 'scripts/postinstall.mjs'), join(root, 'scripts/postinstall.mjs'));
    cpSync(join(REPO, 'scripts/node-gyp-shim/patch-hash.cjs'), join(root, 'scripts/node-gyp-shim/patch-hash.cjs'));
    symlinkSync(join(REPO, 'node_modules/patch-package'), join(root, 'node_modules/patch-package'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'fake-picomp', version: '1.0.0', private: true }));
    writeFileSync(join(naudiodon, 'package.json'), JSON.stringify({ name: 'naudiodon', version: '2.3.6' }));
    // Installed and built with the first patch.
    writeFileSync(join(root, 'patches/naudiodon+2.3.6.patch'), patchTo('upstream', 'first'));
    writeFileSync(join(naudiodon, 'index.js'), "module.exports = 'first';\n");
    recordBuiltHash(root, naudiodon);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const postinstall = () => spawnSync(process.execPath, ['scripts/postinstall.mjs'], { cwd: root, encoding: 'utf8' });

  it('records the hash of the patch it was built with', () => {
    assert.match(readFileSync(join(naudiodon, BUILT_HASH_FILE), 'utf8'), /^[0-9a-f]{64}\n$/);
    assert.equal(builtHash(naudiodon), patchHash(root));
  });

  it('passes quietly when the patch is the one built with', () => {
    const r = postinstall();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /rebuild/);
  });

  it('says in one line how to rebuild when the patch changed since the build, and changes nothing', () => {
    writeFileSync(join(root, 'patches/naudiodon+2.3.6.patch'), patchTo('upstream', 'second'));
    const r = postinstall();
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stderr.trim().split('\n'), [
      `picomp: node_modules/naudiodon was built with another version of patches/naudiodon+*.patch; rebuild it: ${REBUILD_COMMAND}`,
    ]);
    assert.equal(indexJs(), "module.exports = 'first';\n");
  });

  it('without a recorded hash, fails with the rebuild line when the patch does not apply', () => {
    rmSync(join(naudiodon, BUILT_HASH_FILE));
    writeFileSync(join(root, 'patches/naudiodon+2.3.6.patch'), patchTo('upstream', 'second'));
    const r = postinstall();
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').at(-1), `picomp: the naudiodon patch does not apply to the installed node_modules/naudiodon; rebuild it: ${REBUILD_COMMAND}`);
    assert.equal(indexJs(), "module.exports = 'first';\n");
  });
});
