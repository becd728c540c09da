import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveStartOptions, unitIdFromHostname } from '../../src/cli/start-options.js';
import { normaliseBooleanFlags } from '../../src/cli/settings.js';

describe('picomp start options', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'picomp-opts-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('derives the unit id from the hostname', () => {
    assert.equal(unitIdFromHostname('Studio_PI.local'), 'studio-pi-local');
    assert.equal(unitIdFromHostname('---'), 'picomp');
  });

  it('merges defaults < config file < environment < flags', async () => {
    const cfg = join(dir, 'c.yaml');
    await writeFile(cfg, 'unit: from-file\nmqtt_port: 1999\nblock: 256\nparams:\n  threshold: -30\n');
    const o = await resolveStartOptions({ config: cfg, block: '512' }, { PICOMP_MQTT_PORT: '2001', PICOMP_STATE_DIR: '/tmp/x' });
    assert.equal(o.unitId, 'from-file');
    assert.equal(o.mqttPort, 2001);
    assert.equal(o.blockFrames, 512);
    assert.equal(o.stateDir, '/tmp/x');
    assert.equal(o.config.threshold, -30);
    assert.deepEqual(o.input, { kind: 'auto' });
    assert.equal(o.sampleRate, 48000);
    assert.equal(o.wsPort, 9001);
    assert.deepEqual(o.groups, []);
    assert.deepEqual((await resolveStartOptions({ groups: 'row-1, row-2' }, {})).groups, ['row-1', 'row-2']);
  });

  const bad: [string, Record<string, unknown>, string | null, RegExp][] = [
    ['a block out of range', { block: '7' }, null, /--block must be a whole number from 32 to 1024/],
    ['a bad unit id', { unit: 'My Unit' }, null, /--unit must be lowercase/],
    ['a bad group name', { groups: 'row-1,Row 2' }, null, /--groups takes names/],
    ['a reserved unit id', { unit: 'all' }, null, /--unit cannot be "all"/],
    ['a bad sample rate', { 'sample-rate': '44k' }, null, /sample-rate must be a whole number/],
    ['an unknown config key', {}, 'loudness: 3\n', /unknown setting "loudness"/],
    ['a bad parameter in the config file', {}, 'params:\n  ratio: 50\n', /ratio must be 1 to 20/],
    ['a broken YAML file', {}, 'unit: [\n', /is not valid YAML/],
    ['a config that is a list', {}, '- a\n- b\n', /must hold a mapping/],
    ['a broker that is not a URL', { broker: 'teacher-pi' }, null, /--broker must be a URL such as mqtt:\/\/teacher-pi\.local:1883, got "teacher-pi"/],
    ['a broker URL of another protocol', { broker: 'http://teacher-pi:1883' }, null, /--broker must start with mqtt:\/\/, mqtts:\/\/, ws:\/\/, wss:\/\//],
  ];
  for (const [what, flags, file, re] of bad) {
    it(`rejects ${what}`, async () => {
      const f = { ...flags };
      if (file !== null) { const p = join(dir, `bad-${Math.random()}.yaml`); await writeFile(p, file); f.config = p; }
      await assert.rejects(resolveStartOptions(f, {}), re);
    });
  }

  it('reports a missing config file', async () => {
    await assert.rejects(resolveStartOptions({ config: join(dir, 'nope.yaml') }, {}), /cannot read config file .*no such file/);
  });

  it('turns bare boolean flags into values', () => {
    assert.deepEqual(normaliseBooleanFlags(['--dashboard', '--no-ha-discovery', '--unit', 'a']),
      ['--dashboard', 'true', '--ha-discovery', 'false', '--unit', 'a']);
    assert.deepEqual(normaliseBooleanFlags(['--dashboard', 'false']), ['--dashboard', 'false']);
  });
});
