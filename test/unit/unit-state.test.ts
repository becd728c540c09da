import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnitState, type ChangeEvent } from '../../src/unit/unit-state.js';
import { memoryLogger } from '../../src/log.js';

describe('UnitState', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'picomp-state-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('applies valid commands, emits one change and persists across a restart', async () => {
    const log = memoryLogger();
    const s = await UnitState.load({ stateDir: dir, log, persistDelayMs: 1 });
    const events: ChangeEvent[] = [];
    s.on('change', (e) => events.push(e));
    const r = s.apply({ threshold: -30, detector: 'rms' }, 'mqtt');
    assert.equal(r.ok, true);
    assert.equal(events.length, 1);
    assert.deepEqual([...events[0]!.changed].sort(), ['detector', 'threshold']);
    await s.flush();
    const again = await UnitState.load({ stateDir: dir, log });
    assert.equal(again.params.threshold, -30);
    assert.equal(again.params.detector, 'rms');
  });

  it('rejects bad commands without changing anything', async () => {
    const s = await UnitState.load({ stateDir: dir, log: memoryLogger() });
    let changes = 0;
    s.on('change', () => changes++);
    const before = s.snapshot;
    for (const cmd of [{ threshold: -30, ratio: 0 }, { nope: 1 }, [], null, 'x', {}, { preset: 'missing' }, { preset: 3 }]) {
      const r = s.apply(cmd, 'mqtt');
      assert.equal(r.ok, false, JSON.stringify(cmd));
    }
    assert.deepEqual(s.snapshot, before);
    assert.equal(changes, 0);
  });

  it('loads a preset over the defaults, then detaches it when a parameter moves', async () => {
    const s = await UnitState.load({ stateDir: null, log: memoryLogger() });
    s.apply({ makeup: 9 }, 'mqtt');
    const r = s.apply({ preset: 'new-york' }, 'mqtt');
    assert.ok(r.ok);
    assert.equal(s.snapshot.preset, 'new-york');
    assert.equal(s.params.mix, 35);
    assert.equal(s.params.makeup, 18);
    s.apply({ ratio: 3 }, 'knob');
    assert.equal(s.snapshot.preset, null);
    const both = s.apply({ preset: 'bass', makeup: 2 }, 'mqtt');
    assert.ok(both.ok);
    assert.equal(s.params.makeup, 2);
    assert.equal(s.params.threshold, -22);
  });

  it('flags override saved state, saved state overrides the config file', async () => {
    await writeFile(join(dir, 'state.json'), JSON.stringify({ params: { threshold: -40, ratio: 8 } }));
    const s = await UnitState.load({ stateDir: dir, config: { threshold: -10, knee: 3 }, flags: { ratio: 2 }, log: memoryLogger() });
    assert.equal(s.params.threshold, -40);
    assert.equal(s.params.knee, 3);
    assert.equal(s.params.ratio, 2);
  });

  it('replaces a corrupt state file by defaults, keeps the old one and says so', async () => {
    await writeFile(join(dir, 'state.json'), '{"params": {"threshold": ');
    const log = memoryLogger();
    const s = await UnitState.load({ stateDir: dir, log });
    assert.equal(s.params.threshold, -18);
    assert.ok(log.lines.some((l) => /unusable \(it is not valid JSON\)/.test(l)), log.lines.join('\n'));
    assert.ok((await readdir(dir)).some((f) => f.startsWith('state.json.corrupt-')));
    await writeFile(join(dir, 'state.json'), JSON.stringify({ params: { threshold: 40 } }));
    const log2 = memoryLogger();
    const s2 = await UnitState.load({ stateDir: dir, log: log2 });
    assert.equal(s2.params.threshold, -18);
    assert.ok(log2.lines.some((l) => /threshold must be -60 to 0 dBFS/.test(l)));
  });

  it('reads user presets and ignores broken ones with a warning', async () => {
    await mkdir(join(dir, 'presets'));
    await writeFile(join(dir, 'presets', 'my-voice.json'), JSON.stringify({ description: 'mine', params: { threshold: -25 } }));
    await writeFile(join(dir, 'presets', 'broken.json'), JSON.stringify({ params: { threshold: 'loud' } }));
    // Parameters written beside "params" instead of inside: not a preset that silently does nothing.
    await writeFile(join(dir, 'presets', 'flat.json'), JSON.stringify({ threshold: -25 }));
    const log = memoryLogger();
    const s = await UnitState.load({ stateDir: dir, log });
    assert.ok(s.presets().some((p) => p.name === 'my-voice' && !p.builtIn));
    assert.ok(!s.presets().some((p) => p.name === 'broken' || p.name === 'flat'));
    assert.ok(log.lines.some((l) => /broken/.test(l)));
    assert.ok(log.lines.some((l) => /preset "flat" has "threshold" outside "params"; it must look like/.test(l)), log.lines.join('\n'));
    assert.ok(s.apply({ preset: 'my-voice' }, 'mqtt').ok);
    assert.equal(s.params.threshold, -25);
    await s.flush();
    const saved = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8').catch(() => '{}')) as { preset?: string };
    assert.ok(saved.preset === undefined || saved.preset === 'my-voice');
  });
});
