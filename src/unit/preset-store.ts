/**
 * The user's presets beside the built-in ones: saved, renamed and deleted
 * at run time (dashboard, MQTT), one JSON file per preset in the state
 * dir's presets/ folder — the format a user may also write by hand
 * ({"description": "…", "params": {…}}). Every change lands atomically (a
 * file is written whole and renamed into place; a rename is a hard link
 * then an unlink, so a crash leaves the old name or both, never neither),
 * and the in-memory list changes only once the disk did.
 */
import { EventEmitter } from 'node:events';
import { link, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultParams, PARAM_NAMES, type ParamValues } from '../params/schema.js';
import {
  BUILT_IN_PRESETS, PRESET_NAME_PATTERN, parseUserPreset, type Preset,
} from '../params/presets.js';
import type { Result } from '../params/validate.js';
import { writeFileAtomic } from './atomic-file.js';
import { userPresetDir } from './state-dir.js';
import type { Logger } from '../log.js';

/** Enough for a term of lessons; bounds the info document and the folder. */
export const MAX_USER_PRESETS = 100;
/** A description is one line for a tooltip. */
export const MAX_DESCRIPTION_CHARS = 200;

/** What a saved preset leaves out: bypass is a way of listening, not part of a sound. */
const NOT_SAVED = new Set<string>(['bypass']);

const fail = <T>(error: string): Result<T> => ({ ok: false, error });

function showName(name: unknown): string {
  if (typeof name !== 'string') return name === undefined ? 'nothing' : `a ${name === null ? 'null' : typeof name}`;
  return JSON.stringify(name.length > 40 ? name.slice(0, 40) + '…' : name);
}

export class PresetStore extends EventEmitter<{ change: [] }> {
  readonly #dir: string | null;
  readonly #presets: Map<string, Preset>;
  /** Changes run one at a time, so two saves never race on one file or on the count. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(dir: string | null, presets: Map<string, Preset>) {
    super();
    this.#dir = dir;
    this.#presets = presets;
  }

  /** Built-in presets plus the user's from stateDir/presets/*.json (null: built-ins only, nothing saved). */
  static async load(stateDir: string | null, log: Logger): Promise<PresetStore> {
    const presets = new Map<string, Preset>(BUILT_IN_PRESETS.map((p) => [p.name, p]));
    const dir = stateDir ? userPresetDir(stateDir) : null;
    if (dir) {
      for (const p of await readUserPresets(dir, log)) {
        if (presets.has(p.name)) log.warn(`user preset "${p.name}" has the name of a built-in preset and is ignored.`);
        else presets.set(p.name, p);
      }
    }
    return new PresetStore(dir, presets);
  }

  list(): Preset[] {
    return [...this.#presets.values()];
  }

  get(name: string): Preset | undefined {
    return this.#presets.get(name);
  }

  names(): string[] {
    return [...this.#presets.keys()];
  }

  /**
   * Saves `params` (the unit's current values) as user preset `name`:
   * only what differs from the defaults is written, as in the built-ins.
   * An existing user preset of that name is replaced; a built-in is not.
   */
  save(name: unknown, params: ParamValues, description?: unknown): Promise<Result<Preset>> {
    return this.#serial(async () => {
      const bad = this.#checkNewName(name, 'save') ?? checkDescription(description);
      if (bad) return fail<Preset>(bad);
      const key = name as string;
      const existing = this.#presets.get(key);
      if (existing?.builtIn) return fail<Preset>(`"${key}" is a built-in preset and cannot be overwritten; save under another name.`);
      if (!existing && this.#userCount() >= MAX_USER_PRESETS) {
        return fail<Preset>(`there are already ${MAX_USER_PRESETS} user presets; delete one before saving another.`);
      }
      const defaults = defaultParams();
      const saved = Object.fromEntries(PARAM_NAMES
        .filter((n) => !NOT_SAVED.has(n) && params[n] !== defaults[n])
        .map((n) => [n, params[n]])) as Partial<ParamValues>;
      const preset: Preset = {
        name: key, builtIn: false, params: saved,
        description: typeof description === 'string' && description.trim() !== '' ? description.trim()
          : existing?.description ?? 'User preset.',
      };
      const written = await this.#write(preset);
      if (written) return fail<Preset>(written);
      this.#presets.set(key, preset);
      this.emit('change');
      return { ok: true, value: preset };
    });
  }

  /** Renames user preset `from` to `to`, which must be free. */
  rename(from: unknown, to: unknown): Promise<Result<Preset>> {
    return this.#serial(async () => {
      const bad = this.#checkUserPreset(from, 'rename') ?? this.#checkNewName(to, 'rename to');
      if (bad) return fail<Preset>(bad);
      if (this.#presets.has(to as string)) return fail<Preset>(`a preset named "${to as string}" already exists; delete it first or pick another name.`);
      const old = this.#presets.get(from as string)!;
      const preset: Preset = { ...old, name: to as string };
      if (this.#dir) {
        try {
          // link() refuses an existing target, so nothing is ever overwritten.
          await link(this.#file(old.name), this.#file(preset.name));
          await unlink(this.#file(old.name));
        } catch (e) {
          return fail<Preset>(`could not rename the preset file (${(e as Error).message}).`);
        }
      }
      // Keep the list's order: the renamed preset stays where it was.
      const entries = [...this.#presets.entries()].map(([k, v]): [string, Preset] => (k === old.name ? [preset.name, preset] : [k, v]));
      this.#presets.clear();
      for (const [k, v] of entries) this.#presets.set(k, v);
      this.emit('change');
      return { ok: true, value: preset };
    });
  }

  /** Deletes user preset `name`; built-ins stay. */
  delete(name: unknown): Promise<Result<Preset>> {
    return this.#serial(async () => {
      const bad = this.#checkUserPreset(name, 'delete');
      if (bad) return fail<Preset>(bad);
      const preset = this.#presets.get(name as string)!;
      if (this.#dir) {
        try {
          await unlink(this.#file(preset.name));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return fail<Preset>(`could not delete the preset file (${(e as Error).message}).`);
        }
      }
      this.#presets.delete(preset.name);
      this.emit('change');
      return { ok: true, value: preset };
    });
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #userCount(): number {
    let n = 0;
    for (const p of this.#presets.values()) if (!p.builtIn) n++;
    return n;
  }

  #file(name: string): string {
    return join(this.#dir!, `${name}.json`);
  }

  #checkNewName(name: unknown, verb: string): string | null {
    if (typeof name !== 'string' || !PRESET_NAME_PATTERN.test(name)) {
      return `cannot ${verb} ${showName(name)}: a preset name is 1 to 64 of a-z, 0-9, - and _, starting with a letter or digit.`;
    }
    return null;
  }

  #checkUserPreset(name: unknown, verb: string): string | null {
    const p = typeof name === 'string' ? this.#presets.get(name) : undefined;
    if (!p) {
      const users = this.list().filter((x) => !x.builtIn).map((x) => x.name);
      return `cannot ${verb} ${showName(name)}: there is no such user preset${users.length ? ` (user presets: ${users.join(', ')})` : ' (there are none yet)'}.`;
    }
    if (p.builtIn) return `cannot ${verb} "${p.name}": it is a built-in preset; only user presets can be changed.`;
    return null;
  }

  /** Writes one preset file; an error sentence on failure. */
  async #write(preset: Preset): Promise<string | null> {
    if (!this.#dir) return null;
    const doc = { description: preset.description, params: preset.params };
    try {
      await writeFileAtomic(this.#file(preset.name), JSON.stringify(doc, null, 2) + '\n');
      return null;
    } catch (e) {
      return `could not save the preset in ${this.#dir} (${(e as Error).message}).`;
    }
  }
}

function checkDescription(description: unknown): string | null {
  if (description === undefined) return null;
  if (typeof description !== 'string') return 'a preset description must be text.';
  if (description.length > MAX_DESCRIPTION_CHARS) return `a preset description may be at most ${MAX_DESCRIPTION_CHARS} characters, got ${description.length}.`;
  return null;
}

async function readUserPresets(dir: string, log: Logger): Promise<Preset[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  } catch {
    return [];
  }
  const out: Preset[] = [];
  for (const file of names) {
    const name = file.slice(0, -'.json'.length);
    if (!PRESET_NAME_PATTERN.test(name)) {
      log.warn(`user preset file ${file} is ignored: names use a-z, 0-9, - and _ only.`);
      continue;
    }
    if (out.length >= MAX_USER_PRESETS) {
      log.warn(`more than ${MAX_USER_PRESETS} user presets in ${dir}; ${file} and the rest are ignored.`);
      break;
    }
    try {
      const parsed = parseUserPreset(name, JSON.parse(await readFile(join(dir, file), 'utf8')));
      if (typeof parsed === 'string') log.warn(`${parsed} (file ${join(dir, file)} ignored)`);
      else out.push(parsed);
    } catch (e) {
      log.warn(`user preset ${join(dir, file)} is ignored: ${(e as Error).message}`);
    }
  }
  return out;
}
