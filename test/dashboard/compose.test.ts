import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: string[];
  devices?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  profiles?: string[];
  depends_on?: string[];
}

type Doc = { services: Record<string, Service> };
// merge: the services share the image definition through a YAML anchor (<<).
const load = (file: string): Doc => parse(readFileSync(file, 'utf8'), { merge: true }) as Doc;

/** The services `docker compose --profile <p> up` starts: those of the profile, and those with none. */
const startedBy = (doc: Doc, profile: string): string[] =>
  Object.entries(doc.services).filter(([, s]) => !s.profiles || s.profiles.includes(profile)).map(([name]) => name).sort();

describe('docker-compose.yml, docker-compose.pi.yml and Dockerfile', () => {
  const PI_ENV = { ...process.env, PICOMP_INPUT_GID: '105' };

  it('pass docker-compose config, alone and with the Pi override', async function () {
    try {
      await run('docker-compose', ['version'], { timeout: 20_000 });
    } catch {
      console.log('      skipped: docker-compose is not installed (npm test installs it where it can)');
      this.skip();
    }
    // -q: validate only; any error makes a non-zero exit, which rejects.
    await run('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { timeout: 20_000 });
    await run('docker-compose', ['-f', 'docker-compose.yml', '--profile', 'hub', 'config', '-q'], { timeout: 20_000 });
    await run('docker-compose', ['-f', 'docker-compose.yml', '-f', 'docker-compose.pi.yml', '--profile', 'unit', 'config', '-q'], { timeout: 20_000, env: PI_ENV });
    // Without the input group's gid the Pi override stops with a sentence saying how to get it.
    await assert.rejects(run('docker-compose', ['-f', 'docker-compose.yml', '-f', 'docker-compose.pi.yml', 'config', '-q'],
      { timeout: 20_000, env: { ...process.env, PICOMP_INPUT_GID: '' } }), /getent group input/);
    const { stdout } = await run('docker-compose', ['-f', 'docker-compose.yml', '-f', 'docker-compose.pi.yml', 'config'], { timeout: 20_000, env: PI_ENV });
    const merged = parse(stdout) as Doc;
    assert.deepEqual(merged.services.unit?.devices?.sort(), ['/dev/input:/dev/input', '/dev/snd:/dev/snd']);
    assert.deepEqual((merged.services.unit as { group_add?: string[] }).group_add, ['audio', '105']);
  });

  const { unit, 'node-red': nodeRed, mosquitto } = load('docker-compose.yml').services;

  it('the hub profile starts only the hub, the unit profile the unit and its dashboard', () => {
    const doc = load('docker-compose.yml');
    assert.deepEqual(startedBy(doc, 'hub'), ['mosquitto']);
    assert.deepEqual(startedBy(doc, 'unit'), ['node-red', 'unit']);
  });

  it('runs the unit with its broker ports and no device, so it starts on a laptop', () => {
    assert.ok(unit);
    assert.deepEqual(unit.command, ['picomp', 'start']);
    assert.ok(unit.build, 'the unit is built from the Dockerfile');
    for (const port of ['1883:1883', '9001:9001']) assert.ok(unit.ports?.includes(port), port);
    assert.equal(unit.devices, undefined, 'devices belong in docker-compose.pi.yml');
    assert.equal((unit as { group_add?: unknown }).group_add, undefined, 'groups belong in docker-compose.pi.yml');
    assert.match(unit.environment?.PICOMP_UNIT ?? '', /\$\{PICOMP_UNIT/);
  });

  it('gives the unit the sound card and the knobs\' input devices on a Pi, no GPIO chip', () => {
    const pi = load('docker-compose.pi.yml').services.unit;
    assert.ok(pi);
    const devices = (pi.devices ?? []).map((d) => d.split(':')[0]);
    assert.deepEqual(devices.sort(), ['/dev/input', '/dev/snd']);
  });

  it('runs Node-RED with the flow mounted, talking to the unit\'s broker', () => {
    assert.ok(nodeRed);
    assert.ok(nodeRed.ports?.includes('1880:1880'));
    assert.ok(nodeRed.volumes?.some((v) => v.startsWith('./flows:')), 'flows mounted');
    assert.equal(nodeRed.environment?.PICOMP_BROKER, 'mqtt://unit:1883');
    assert.ok(nodeRed.depends_on?.includes('unit'));
    assert.deepEqual(nodeRed.command, ['picomp', 'dashboard']);
  });

  it('runs the classroom Mosquitto on 1883 with hub/ (mosquitto.conf, passwd, acl)', () => {
    assert.ok(mosquitto);
    assert.deepEqual(mosquitto.profiles, ['hub']);
    assert.match(mosquitto.image ?? '', /^eclipse-mosquitto:/);
    assert.ok(mosquitto.ports?.some((p) => /:-?1883\}?:1883$/.test(p)), `ports ${mosquitto.ports?.join(', ')}`);
    // The folder, so the passwd and acl files picomp hub writes beside mosquitto.conf are there too.
    assert.ok(mosquitto.volumes?.includes('./hub:/mosquitto/config:ro'));
    assert.ok(mosquitto.volumes?.some((v) => /:\/mosquitto\/data$/.test(v)), 'persistence kept in a volume');
    assert.deepEqual(mosquitto.command, ['mosquitto', '-c', '/mosquitto/config/mosquitto.conf']);
  });

  it('builds the unit image from a Node LTS with PortAudio, npm ci, a built driver and picomp start', () => {
    const df = readFileSync('Dockerfile', 'utf8');
    assert.match(df, /^FROM node:(22|24)-bookworm-slim AS build$/m);
    for (const pkg of ['libportaudio2', 'portaudio19-dev', 'build-essential', 'python3']) assert.match(df, new RegExp(`apt-get install[^\\n]*${pkg}`), pkg);
    assert.match(df, /^RUN npm ci && test -f node_modules\/naudiodon\/build\/Release\/naudiodon\.node/m);
    assert.match(df, /^CMD \["picomp", "start"\]$/m);
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n');
    for (const dir of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(dir), `.dockerignore ${dir}`);
  });
});
