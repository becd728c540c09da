/**
 * The shell scripts of the install and test flow: scripts/test-setup.sh
 * (what `npm test` provisions) and .ci/run pass shellcheck, and .ci/run
 * calls exactly the README's test command.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const SCRIPTS = ['scripts/test-setup.sh', '.ci/run'];

describe('install and test scripts', () => {
  it('pass shellcheck', function () {
    const r = spawnSync('shellcheck', ['--severity=style', ...SCRIPTS], { encoding: 'utf8' });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      console.log('      skipped: shellcheck is not installed (npm test installs it where it can)');
      this.skip();
    }
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  it('npm test provisions first, and .ci/run runs the README\'s npm test', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts.test ?? '', /^bash scripts\/test-setup\.sh && /);
    const readme = readFileSync('README.md', 'utf8');
    assert.match(readme, /```sh\nnpm test\n```/);
    const ci = readFileSync('.ci/run', 'utf8').split('\n').filter((l) => /\bnpm test\b/.test(l) && !l.trim().startsWith('#'));
    assert.deepEqual(ci.map((l) => l.trim().split(' 2>&1')[0]), ['npm test']);
  });
});
