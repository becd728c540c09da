import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  SETTINGS, configKey, envName, normaliseBooleanFlags, readSettings, settingOptions, settingsHelp, type SettingDef,
} from '../../src/cli/settings.js';
import { resolveStartOptions } from '../../src/cli/start-options.js';

const defs = SETTINGS as readonly SettingDef[];
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Runs the real CLI to its end (bounded): exit code and what it wrote. */
function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr });
    });
  });
}

describe('settings schema', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'picomp-settings-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('names each setting once, with its variable and config key', () => {
    assert.equal(new Set(defs.map((s) => s.name)).size, defs.length);
    const mqtt = defs.find((s) => s.name === 'mqtt-port')!;
    assert.equal(envName(mqtt), 'PICOMP_MQTT_PORT');
    assert.equal(configKey(mqtt), 'mqtt_port');
    for (const s of defs) if (s.kind === 'int') assert.ok(s.min <= s.default && s.default <= s.max, s.name);
  });

  it('builds each command\'s flags and help from the schema, defaults and ranges included', () => {
    for (const command of ['start', 'dashboard'] as const) {
      const help = settingsHelp(command);
      const flags = Object.keys(settingOptions(command));
      for (const s of defs) {
        const takes = (s.commands as readonly string[]).includes(command);
        assert.equal(help.includes(`--${s.name} `) || help.includes(`--${s.name}\n`) || help.endsWith(`--${s.name}`), takes, `${command} help and --${s.name}`);
        assert.equal(flags.includes(s.name), takes || s.kind === 'secret', `${command} flag --${s.name}`);
        if (takes && s.kind === 'int') assert.ok(help.includes(`${s.min}..${s.max}, default ${s.default}`), s.name);
      }
    }
  });

  it('takes every setting from its environment variable and config key, flags winning', async () => {
    const cfg = join(dir, 'c.json');
    await writeFile(cfg, JSON.stringify({ meter_rate: 30, 'ws-port': 9100, ha_discovery: false }));
    const r = await readSettings({ config: cfg, 'meter-rate': '40' }, { PICOMP_WS_PORT: '9200' });
    assert.equal(r.values['meter-rate'], 40);
    assert.equal(r.values['ws-port'], 9200);
    assert.equal(r.values['ha-discovery'], false);
    assert.equal(r.values['mqtt-port'], 1883);
    assert.ok(r.given.has('ws-port') && !r.given.has('mqtt-port'));
  });

  it('reads every setting of the schema from its variable and from its config key', async () => {
    const sample = (s: SettingDef): string | number | boolean =>
      s.kind === 'int' ? (s.default === s.max ? s.min : s.max) : s.kind === 'bool' ? !s.default : `x-${s.name}`;
    const cfg = join(dir, 'every.json');
    await writeFile(cfg, JSON.stringify(Object.fromEntries(defs.map((s) => [configKey(s), sample(s)]))));
    const fromFile = await readSettings({ config: cfg }, {});
    const fromEnv = await readSettings({}, Object.fromEntries(defs.map((s) => [envName(s), String(sample(s))])));
    for (const s of defs) {
      const name = s.name as keyof typeof fromFile.values;
      assert.equal(fromFile.values[name], sample(s), `${configKey(s)} in the config file`);
      assert.equal(fromEnv.values[name], sample(s), envName(s));
      assert.equal(fromEnv.origin(name), `environment variable ${envName(s)}`);
    }
  });

  it('refuses a password as a flag, naming where it belongs', async () => {
    await assert.rejects(readSettings({ 'broker-password': 'x' }, {}), /PICOMP_BROKER_PASSWORD or broker_password/);
  });

  it('names the source of a bad value: the flag, the variable or the config file and key', async () => {
    const yaml = join(dir, 'bad-values.yaml');
    const cases: [string, Record<string, unknown>, NodeJS.ProcessEnv, string, RegExp][] = [
      ['int flag', { 'mqtt-port': '99999' }, {}, '', /^--mqtt-port must be a whole number from 0 to 65535, got "99999"\.$/],
      ['int variable', {}, { PICOMP_MQTT_PORT: '99999' }, '', /^environment variable PICOMP_MQTT_PORT must be a whole number from 0 to 65535/],
      ['int config key', {}, {}, 'mqtt_port: 1.5\n', /^config file .*bad-values\.yaml: mqtt_port must be a whole number from 0 to 65535, got "1\.5"\.$/],
      ['bool variable', {}, { PICOMP_HA_DISCOVERY: 'maybe' }, '', /^environment variable PICOMP_HA_DISCOVERY must be true or false, got "maybe"\.$/],
      ['bool config key', {}, {}, 'ha_discovery: maybe\n', /^config file .*: ha_discovery must be true or false/],
      ['list for a text', {}, {}, 'unit: [a, b]\n', /^config file .*: unit must be a text value\.$/],
      ['unit variable', {}, { PICOMP_UNIT: 'Studio 1' }, '', /^environment variable PICOMP_UNIT must be lowercase letters/],
      ['reserved unit in config', {}, {}, 'unit: all\n', /^config file .*: unit cannot be "all"/],
      ['groups variable', {}, { PICOMP_GROUPS: 'row-1,Row 2' }, '', /^environment variable PICOMP_GROUPS takes names/],
      ['base topic in config', {}, {}, 'base_topic: a/+/b\n', /^config file .*: base_topic must be MQTT topic levels/],
      ['broker variable', {}, { PICOMP_BROKER: 'teacher-pi' }, '', /^environment variable PICOMP_BROKER must be a URL such as mqtt:/],
      ['half of TLS in config', {}, {}, 'tls_cert: c.pem\n', /^TLS needs both --tls-cert and --tls-key; only config file .*: tls_cert is set\.$/],
    ];
    for (const [what, flags, env, file, re] of cases) {
      await writeFile(yaml, file);
      await assert.rejects(resolveStartOptions(file ? { ...flags, config: yaml } : flags, env), (e: Error) => {
        assert.match(e.message, re, what);
        assert.equal(e.message.split('\n').length, 1, what);
        return true;
      });
    }
  });

  it('keeps the word after a boolean that takes a value, so a bad one is named', async () => {
    assert.deepEqual(normaliseBooleanFlags(['--ha-discovery', 'maybe']), ['--ha-discovery', 'maybe']);
    assert.deepEqual(normaliseBooleanFlags(['--ha-discovery', '--unit', 'a']), ['--ha-discovery', 'true', '--unit', 'a']);
    assert.deepEqual(normaliseBooleanFlags(['--dashboard', 'x']), ['--dashboard', 'true', 'x']);
    await assert.rejects(resolveStartOptions({ 'ha-discovery': 'maybe' }, {}), /: --ha-discovery must be true or false, got "maybe"\.$/);
  });

  it('stops the real CLI with one line and exit 2 before anything starts, whichever source is bad', async () => {
    const stateDir = join(dir, 'state');
    const badKnobs = join(dir, 'bad-knobs.yaml');
    await writeFile(badKnobs, 'knobs:\n  - backend: gpio\n    pins: { a: 17, b: 17 }\n    param: threshold\n');
    const runs: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['start', '--config', badKnobs], {}, /config file .*bad-knobs\.yaml: GPIO 17 .* used twice/],
      [['start'], { PICOMP_BLOCK: '7' }, /environment variable PICOMP_BLOCK must be a whole number from/],
      [['start', '--ha-discovery', 'maybe'], {}, /--ha-discovery must be true or false/],
      [['dashboard'], { PICOMP_DASHBOARD_PORT: '0' }, /environment variable PICOMP_DASHBOARD_PORT must be a whole number from 1/],
    ];
    for (const [args, env, re] of runs) {
      // Were it to start after all, it would write its state there and fail on port 1.
      const r = await runCli(args, { PICOMP_STATE_DIR: stateDir, PICOMP_MQTT_PORT: '1', PICOMP_INPUT: 'demo', PICOMP_OUTPUT: 'null', ...env });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    }
    // Nothing started: no state was written.
    await assert.rejects(readdir(stateDir), /ENOENT/);
  });

  it('checks the knobs section before anything starts', async () => {
    const cfg = join(dir, 'knobs.yaml');
    await writeFile(cfg, 'knobs:\n  - backend: gpio\n    pins: { a: 17, b: 17 }\n    param: threshold\n');
    await assert.rejects(resolveStartOptions({ config: cfg }, {}), /config file .*knobs.yaml: .*used twice/);
    const good = join(dir, 'knobs-ok.yaml');
    await writeFile(good, 'knobs:\n  - backend: gpio\n    pins: { a: 17, b: 18 }\n    param: threshold\nled:\n  pin: 22\n');
    const o = await resolveStartOptions({ config: good }, {});
    assert.equal(o.knobs?.knobs.length, 1);
    assert.equal(o.knobs?.led?.pin, 22);
    assert.equal((await resolveStartOptions({}, {})).knobs, null);
  });
});
