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

describe('docker-compose.yml and Dockerfile', () => {
  it('passes docker-compose config', async function () {
    try {
      await run('docker-compose', ['version'], { timeout: 20_000 });
    } catch {
      this.skip(); // the compose parser is not installed on this machine
    }
    // -q: validate only; any error makes a non-zero exit, which rejects.
    await run('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { timeout: 20_000 });
    const { stdout } = await run('docker-compose', ['-f', 'docker-compose.yml', '--profile', 'hub', 'config', '--services'], { timeout: 20_000 });
    assert.deepEqual(stdout.trim().split('\n').sort(), ['mosquitto', 'node-red', 'unit']);
  });

  // merge: the services share the image definition through a YAML anchor (<<).
  const doc = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const { unit, 'node-red': nodeRed, mosquitto } = doc.services;

  it('runs the unit with sound, GPIO and its broker ports', () => {
    assert.ok(unit);
    assert.deepEqual(unit.command, ['picomp', 'start']);
    assert.ok(unit.build, 'the unit is built from the Dockerfile');
    for (const port of ['1883:1883', '9001:9001']) assert.ok(unit.ports?.includes(port), port);
    const devices = (unit.devices ?? []).map((d) => d.split(':')[0]);
    assert.ok(devices.includes('/dev/snd'));
    assert.ok(devices.some((d) => /gpio|\/dev\/input/.test(d)));
    assert.match(unit.environment?.PICOMP_UNIT ?? '', /\$\{PICOMP_UNIT/);
  });

  it('runs Node-RED with the flow mounted, talking to the unit\'s broker', () => {
    assert.ok(nodeRed);
    assert.ok(nodeRed.ports?.includes('1880:1880'));
    assert.ok(nodeRed.volumes?.some((v) => v.startsWith('./flows:')), 'flows mounted');
    assert.equal(nodeRed.environment?.PICOMP_BROKER, 'mqtt://unit:1883');
    assert.ok(nodeRed.depends_on?.includes('unit'));
    assert.deepEqual(nodeRed.command, ['picomp', 'dashboard']);
  });

  it('has the classroom Mosquitto only under a profile', () => {
    assert.ok(mosquitto);
    assert.deepEqual(mosquitto.profiles, ['hub']);
    assert.match(mosquitto.image ?? '', /^eclipse-mosquitto:/);
  });

  it('builds the unit image from node:20-bookworm-slim with PortAudio, npm ci and picomp start', () => {
    const df = readFileSync('Dockerfile', 'utf8');
    assert.match(df, /^FROM node:20-bookworm-slim AS build$/m);
    for (const pkg of ['libportaudio2', 'portaudio19-dev', 'build-essential', 'python3']) assert.match(df, new RegExp(`apt-get install[^\\n]*${pkg}`), pkg);
    assert.match(df, /^RUN npm ci\b/m);
    assert.match(df, /^CMD \["picomp", "start"\]$/m);
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n');
    for (const dir of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(dir), `.dockerignore ${dir}`);
  });
});
