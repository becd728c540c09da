/**
 * The shell script and the systemd units in hardware/ pass the Debian
 * tools that check them: shellcheck, systemd-analyze verify and, where the
 * systemd is new enough (253+), udevadm verify. A missing tool skips its
 * test with the reason printed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const HARDWARE = fileURLToPath(new URL('../../../hardware/', import.meta.url));
const files = (ext: string): string[] => readdirSync(HARDWARE).filter((f) => f.endsWith(ext)).map((f) => HARDWARE + f);

function run(cmd: string, args: string[]): { status: number | null; output: string; missing: boolean } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const missing = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim(), missing };
}

function skipWith(ctx: Mocha.Context, reason: string): void {
  console.log(`      skipped: ${reason}`);
  ctx.skip();
}

describe('hardware/ files', () => {
  it('install.sh and every other script pass shellcheck', function () {
    const scripts = files('.sh');
    assert.ok(scripts.length > 0);
    const r = run('shellcheck', ['--severity=style', ...scripts]);
    if (r.missing) return skipWith(this, 'shellcheck is not installed (apt-get install shellcheck)');
    assert.equal(r.status, 0, r.output);
  });

  it('the systemd units pass systemd-analyze verify without a single warning', function () {
    const units = files('.service');
    assert.deepEqual(units.map((u) => u.slice(HARDWARE.length)).sort(), ['picomp-dashboard.service', 'picomp.service']);
    const r = run('systemd-analyze', ['verify', ...units]);
    if (r.missing) return skipWith(this, 'systemd-analyze is not installed (apt-get install systemd)');
    assert.equal(r.status, 0, r.output);
    // verify exits 0 on unknown keys and misplaced settings; those are mistakes too.
    assert.equal(r.output, '');
  });

  it('the udev rules pass udevadm verify', function () {
    const probe = run('udevadm', ['verify', '--help']);
    if (probe.missing) return skipWith(this, 'udevadm is not installed (apt-get install udev)');
    if (probe.status !== 0) return skipWith(this, 'this udevadm has no verify command (systemd 253 or newer has it)');
    const r = run('udevadm', ['verify', ...files('.rules')]);
    assert.equal(r.status, 0, r.output);
  });
});
