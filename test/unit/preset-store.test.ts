/** User presets saved, renamed and deleted at run time: validated, atomic on disk, bounded. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PresetStore, MAX_USER_PRESETS } from '../../src/unit/preset-store.js';
import { defaultParams } from '../../src/params/schema.js';
import { memoryLogger } from '../../src/log.js';

describe('PresetStore', function () {
  let dir: string;
  beforeEach(async function () { dir = await mkdtemp(join(tmpdir(), 'picomp-presets-')); });
  afterEach(async function () { await rm(dir, { recursive: true, force: true }); });

  const params = { ...defaultParams(), threshold: -30, ratio: 6, bypass: true };

  it('saves what differs from the defaults (not bypass), in the hand-written format, and reloads it', async function () {
    const store = await PresetStore.load(dir, memoryLogger());
    let changes = 0;
    store.on('change', () => changes++);
    const r = await store.save('my-vocal', params, 'Warm and close.');
    assert.ok(r.ok);
    assert.deepEqual(r.value.params, { threshold: -30, ratio: 6 });
    assert.equal(changes, 1);
    const file = JSON.parse(await readFile(join(dir, 'presets', 'my-vocal.json'), 'utf8'));
    assert.deepEqual(file, { description: 'Warm and close.', params: { threshold: -30, ratio: 6 } });
    assert.deepEqual((await readdir(join(dir, 'presets'))), ['my-vocal.json'], 'no temporary file is left');
    const again = await PresetStore.load(dir, memoryLogger());
    assert.deepEqual(again.get('my-vocal'), { name: 'my-vocal', builtIn: false, description: 'Warm and close.', params: { threshold: -30, ratio: 6 } });
  });

  it('overwrites a user preset of the same name (keeping its description) but never a built-in', async function () {
    const store = await PresetStore.load(dir, memoryLogger());
    await store.save('mine', params, 'First.');
    const r = await store.save('mine', { ...params, ratio: 2 });
    assert.ok(r.ok);
    assert.equal(r.value.description, 'First.');
    assert.equal(store.get('mine')!.params.ratio, 2);
    const b = await store.save('bass', params);
    assert.equal(b.ok, false);
    assert.match(!b.ok ? b.error : '', /built-in preset and cannot be overwritten/);
    assert.equal(store.get('bass')!.builtIn, true);
  });

  it('renames a user preset, keeping its place and contents, and refuses taken or bad names', async function () {
    const store = await PresetStore.load(dir, memoryLogger());
    await store.save('a', params);
    await store.save('b', params);
    const r = await store.rename('a', 'c');
    assert.ok(r.ok);
    assert.deepEqual(store.names().filter((n) => !store.get(n)!.builtIn), ['c', 'b']);
    assert.deepEqual((await readdir(join(dir, 'presets'))).sort(), ['b.json', 'c.json']);
    for (const [from, to, why] of [
      ['c', 'b', /already exists/], ['c', 'bass', /already exists/], ['nope', 'd', /no such user preset/],
      ['bass', 'd', /built-in/], ['c', 'Bad Name', /a preset name is/], ['c', '../x', /a preset name is/],
    ] as const) {
      const e = await store.rename(from, to);
      assert.equal(e.ok, false, `${from} → ${to}`);
      assert.match(!e.ok ? e.error : '', why);
    }
    assert.deepEqual((await readdir(join(dir, 'presets'))).sort(), ['b.json', 'c.json'], 'refusals change nothing');
  });

  it('deletes user presets only', async function () {
    const store = await PresetStore.load(dir, memoryLogger());
    await store.save('gone', params);
    assert.ok((await store.delete('gone')).ok);
    assert.equal(store.get('gone'), undefined);
    assert.deepEqual(await readdir(join(dir, 'presets')), []);
    const b = await store.delete('drum-bus');
    assert.match(!b.ok ? b.error : '', /built-in/);
    const n = await store.delete(42);
    assert.match(!n.ok ? n.error : '', /cannot delete a number: there is no such user preset/);
  });

  it('refuses bad names and descriptions with a sentence, writing nothing', async function () {
    const store = await PresetStore.load(dir, memoryLogger());
    for (const [name, desc] of [['', undefined], ['UPPER', undefined], ['x'.repeat(65), undefined], [null, undefined],
      ['ok', 42], ['ok', 'x'.repeat(201)]] as const) {
      const r = await store.save(name, params, desc);
      assert.equal(r.ok, false, JSON.stringify([name, desc]));
    }
    assert.deepEqual(await readdir(dir), []);
  });

  it('keeps at most MAX_USER_PRESETS user presets', async function () {
    this.timeout(120_000);
    await mkdir(join(dir, 'presets'));
    for (let i = 0; i < MAX_USER_PRESETS; i++) await writeFile(join(dir, 'presets', `p${i}.json`), '{"params": {}}');
    const store = await PresetStore.load(dir, memoryLogger());
    const r = await store.save('one-more', params);
    assert.match(!r.ok ? r.error : '', /delete one before saving another/);
    assert.ok((await store.save('p0', params)).ok, 'replacing one is fine');
  });

  it('serialises concurrent changes', async function () {
    const store = await PresetStore.load(dir, memoryLogger());
    const results = await Promise.all([store.save('x', params), store.rename('x', 'y'), store.delete('y')]);
    assert.deepEqual(results.map((r) => r.ok), [true, true, true]);
    assert.deepEqual(await readdir(join(dir, 'presets')), []);
  });

  it('without a state dir keeps presets in memory only', async function () {
    const store = await PresetStore.load(null, memoryLogger());
    assert.ok((await store.save('temp', params)).ok);
    assert.ok((await store.rename('temp', 'temp2')).ok);
    assert.ok((await store.delete('temp2')).ok);
  });
});
