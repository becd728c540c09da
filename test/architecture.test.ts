/**
 * The house's shape, checked: imports only run down the layers
 *   params → dsp → io → engine → unit → mqtt / knobs / dashboard / classroom → cli
 * (errors.ts and log.ts are for everyone), and no module imports itself
 * through others. Reads the TypeScript sources, static and dynamic imports alike.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** src/ of the repository (this file runs from dist/test/). */
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const TEST = fileURLToPath(new URL('../../test/', import.meta.url));

/** Layer of each top-level folder or file of src/; a module may import its own layer or lower ones. */
const LAYERS: Record<string, number> = {
  'errors.ts': 0, 'log.ts': 0,
  params: 1, dsp: 2, io: 3, engine: 4, unit: 5,
  mqtt: 6, knobs: 6, dashboard: 6, classroom: 6,
  cli: 7,
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports of a module, as source paths. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName).filter((n) => n.startsWith('.'))
    .map((n) => resolve(dirname(file), n.replace(/\.js$/, '.ts')));
}

const layerOf = (file: string): number | undefined => LAYERS[relative(SRC, file).split('/')[0]!];
const shown = (file: string): string => relative(SRC, file);

type Graph = ReadonlyMap<string, readonly string[]>;

/** Imports from a module to a higher layer, or to no layer (say test/ code), as `from → to`. */
function upwardImports(graph: Graph): string[] {
  const upward: string[] = [];
  for (const [file, deps] of graph) {
    for (const dep of deps) {
      const to = layerOf(dep);
      if (to === undefined || to > layerOf(file)!) upward.push(`${shown(file)} → ${shown(dep)}`);
    }
  }
  return upward;
}

/** Every import cycle met in a depth-first walk, as `a → b → a`. */
function importCycles(graph: Graph): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 'open') cycles.push([...stack.slice(stack.indexOf(dep)), dep].map(shown).join(' → '));
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return cycles;
}

describe('architecture', () => {
  const files = tsFiles(SRC);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it('puts every source folder in a layer', () => {
    const unplaced = [...new Set(files.map((f) => relative(SRC, f).split('/')[0]!))].filter((top) => LAYERS[top] === undefined);
    assert.deepEqual(unplaced, [], 'add new folders to LAYERS in test/architecture.test.ts');
  });

  it('reads the real imports, static and dynamic (so the checks below cannot pass on an empty graph)', () => {
    const at = (f: string): string => join(SRC, f);
    assert.ok(graph.get(at('cli/start.ts'))?.includes(at('unit/meter-pump.ts')), 'a static import');
    assert.ok(graph.get(at('cli/start.ts'))?.includes(at('mqtt/broker.ts')), 'a dynamic import');
  });

  it('would catch an upward import and a cycle', () => {
    const at = (f: string): string => join(SRC, f);
    const bad = new Map([
      [at('unit/a.ts'), [at('cli/b.ts'), at('dsp/c.ts'), join(TEST, 'helpers/e.ts')]],
      [at('dsp/c.ts'), [at('dsp/d.ts')]],
      [at('dsp/d.ts'), [at('dsp/c.ts')]],
    ]);
    assert.deepEqual(upwardImports(bad), ['unit/a.ts → cli/b.ts', 'unit/a.ts → ../test/helpers/e.ts']);
    assert.deepEqual(importCycles(bad), ['dsp/c.ts → dsp/d.ts → dsp/c.ts']);
  });

  it('imports only down the layers', () => {
    assert.deepEqual(upwardImports(graph), []);
  });

  it('has no import cycle', () => {
    assert.deepEqual(importCycles(graph), []);
  });

  it('mirrors src/ in test/, with helpers and fixtures apart', () => {
    const dirs = readdirSync(TEST).filter((d) => statSync(join(TEST, d)).isDirectory());
    // install: the README's commands on a fresh clone, about the repository rather than one layer.
    const odd = dirs.filter((d) => !['helpers', 'fixtures', 'security', 'install'].includes(d) && LAYERS[d] === undefined);
    assert.deepEqual(odd, []);
    // Only test files (and fixture data) in the mirrored folders: shared code goes to test/helpers.
    const strays = dirs.filter((d) => LAYERS[d] !== undefined)
      .flatMap((d) => tsFiles(join(TEST, d))).filter((f) => !f.endsWith('.test.ts')).map((f) => relative(TEST, f));
    assert.deepEqual(strays, []);
  });
});
