import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SETTINGS, configKey, envName, readSettings, settingOptions, settingsHelp, type SettingDef } from '../../src/cli/settings.js';
import { resolveStartOptions } from '../../src/cli/start-options.js';

const defs = SETTINGS as readonly SettingDef[];

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

  it('refuses a password as a flag, naming where it belongs', async () => {
    await assert.rejects(readSettings({ 'broker-password': 'x' }, {}), /PICOMP_BROKER_PASSWORD or broker_password/);
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
