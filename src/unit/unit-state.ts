/**
 * The unit's current parameters and preset, in the user layer. Every way
 * of changing a parameter (MQTT, knobs, CLI, config) goes through apply(),
 * so validation, persistence and change notification happen in one place.
 * The audio engine listens for 'change' and copies the values into the
 * shared parameter buffer.
 */
import { EventEmitter } from 'node:events';
import { readFile, rename } from 'node:fs/promises';
import { defaultParams, PARAM_NAMES, type ParamName, type ParamValues } from '../params/schema.js';
import { validatePartial, type Result } from '../params/validate.js';
import { presetValues, type Preset } from '../params/presets.js';
import { targetValues, type EffectiveSetting, type LockSpec } from './desired.js';
import { lockRefusal, lockedField } from './lock.js';
import { writeFileAtomic } from './atomic-file.js';
import { PresetStore } from './preset-store.js';
import { stateFile } from './state-dir.js';
import type { Logger } from '../log.js';

interface SavedState {
  readonly params: Partial<ParamValues>;
  readonly preset: string | null;
}

export interface UnitSnapshot {
  readonly params: ParamValues;
  /** The preset last loaded, or null once any parameter was changed after it. */
  readonly preset: string | null;
  /** The rev of the class setting applied (SPEC §5), or null. */
  readonly classRev: number | null;
  /** What the teacher locked: false, true (everything) or the locked parameters. */
  readonly locked: boolean | ParamName[];
}

/**
 * Who asked for a change; carried to listeners (e.g. for logs). 'mqtt' is
 * the unit's own set topics (and so its dashboard), 'teacher' the all/group
 * commands, 'desired' the class setting.
 */
export type ChangeSource = 'mqtt' | 'knob' | 'teacher' | 'desired' | 'cli' | 'config' | 'restore' | 'api';

/** The unit's own controls, which the teacher's lock holds (SPEC §5). */
const LOCKABLE_SOURCES: readonly ChangeSource[] = ['mqtt', 'knob'];

export interface ChangeEvent {
  readonly snapshot: UnitSnapshot;
  readonly changed: readonly ParamName[];
  readonly source: ChangeSource;
}

export interface UnitStateOptions {
  /** Folder for state.json and presets/; null keeps nothing on disk (render, tests). */
  readonly stateDir: string | null;
  /** Values from the config file: the baseline that persisted state overrides. */
  readonly config?: Partial<ParamValues>;
  /** Values from command-line flags: override everything at start. */
  readonly flags?: Partial<ParamValues>;
  readonly log: Logger;
  /** Delay before a burst of changes is written to disk. */
  readonly persistDelayMs?: number;
}

/** A change the teacher's lock refused (the MQTT side reports knob refusals on `error`). */
export interface RefusedEvent {
  readonly source: ChangeSource;
  readonly error: string;
}

/**
 * 'change': parameters or the current preset changed. 'refused': the lock
 * refused a change. 'presets': the list of presets changed (saved,
 * renamed, deleted), for the `info` document.
 */
export class UnitState extends EventEmitter<{ change: [ChangeEvent]; refused: [RefusedEvent]; presets: [] }> {
  #params: ParamValues;
  #preset: string | null;
  #presets: PresetStore;
  #lock: LockSpec = false;
  #classRev: number | null = null;
  #persistTimer: NodeJS.Timeout | null = null;
  #persisting: Promise<void> = Promise.resolve();

  private constructor(private readonly opts: UnitStateOptions, params: ParamValues, preset: string | null, presets: PresetStore) {
    super();
    this.#params = params;
    this.#preset = preset;
    this.#presets = presets;
  }

  /** Builds the start-up state: defaults < config < persisted state < flags. */
  static async load(opts: UnitStateOptions): Promise<UnitState> {
    let params: ParamValues = baseline(opts);
    let preset: string | null = null;
    if (opts.stateDir) {
      const restored = await readStateFile(stateFile(opts.stateDir), opts.log);
      if (restored) { params = { ...params, ...restored.params }; preset = restored.preset; }
    }
    if (opts.flags && Object.keys(opts.flags).length > 0) {
      params = { ...params, ...opts.flags };
      preset = null;
    }
    return new UnitState(opts, params, preset, await PresetStore.load(opts.stateDir, opts.log));
  }

  get snapshot(): UnitSnapshot {
    return { params: { ...this.#params }, preset: this.#preset, classRev: this.#classRev, locked: lockedField(this.#lock) };
  }

  get params(): ParamValues {
    return { ...this.#params };
  }

  presets(): Preset[] {
    return this.#presets.list();
  }

  /**
   * Saves the current parameters as user preset `name` (replacing a user
   * preset of that name), which becomes the current preset.
   */
  async savePreset(name: unknown, description: unknown, source: ChangeSource): Promise<Result<Preset>> {
    const r = await this.#presets.save(name, this.#params, description);
    if (r.ok) this.#presetsChanged(r.value.name, source);
    return r;
  }

  /** Renames a user preset; the current preset follows it. */
  async renamePreset(from: unknown, to: unknown, source: ChangeSource): Promise<Result<Preset>> {
    const r = await this.#presets.rename(from, to);
    if (r.ok) this.#presetsChanged(this.#preset === from ? r.value.name : this.#preset, source);
    return r;
  }

  /** Deletes a user preset; the sound stays, no longer named after it. */
  async deletePreset(name: unknown, source: ChangeSource): Promise<Result<Preset>> {
    const r = await this.#presets.delete(name);
    if (r.ok) this.#presetsChanged(this.#preset === name ? null : this.#preset, source);
    return r;
  }

  #presetsChanged(current: string | null, source: ChangeSource): void {
    this.emit('presets');
    if (current === this.#preset) return;
    this.#preset = current;
    this.emit('change', { snapshot: this.snapshot, changed: [], source });
    this.#schedulePersist();
  }

  /**
   * Applies a command such as {"threshold": -20} or {"preset": "bass",
   * "makeup": 3}: all or nothing. A preset is laid down first and the other
   * entries on top of it.
   */
  apply(command: unknown, source: ChangeSource): Result<UnitSnapshot> {
    if (command === null || typeof command !== 'object' || Array.isArray(command)) {
      return { ok: false, error: 'expected a JSON object of parameters such as {"threshold": -20}.' };
    }
    const { preset: presetName, ...rest } = command as Record<string, unknown>;
    if (LOCKABLE_SOURCES.includes(source)) {
      const refused = lockRefusal(this.#lock, Object.keys(rest), presetName !== undefined);
      if (refused) {
        this.emit('refused', { source, error: refused });
        return { ok: false, error: refused };
      }
    }
    let base = this.#params;
    let preset: string | null = null;
    if (presetName !== undefined) {
      const found = typeof presetName === 'string' ? this.#presets.get(presetName) : undefined;
      if (!found) {
        return { ok: false, error: `preset must be one of ${this.#presets.names().join(', ')}, got ${JSON.stringify(presetName)}.` };
      }
      base = presetValues(found);
      preset = found.name;
    }
    const r = validatePartial(rest);
    if (!r.ok) return r;
    if (presetName === undefined && Object.keys(r.value).length === 0) {
      return { ok: false, error: 'the command names no parameter; send e.g. {"threshold": -20}.' };
    }
    const next = { ...base, ...r.value };
    if (presetName !== undefined && Object.keys(r.value).length > 0) preset = null;
    const changed = PARAM_NAMES.filter((n) => next[n] !== this.#params[n]);
    const presetChanged = preset !== this.#preset;
    // A command that sets a parameter to its current value still detaches
    // the preset only if something actually changed.
    if (presetName === undefined && changed.length === 0) return { ok: true, value: this.snapshot };
    this.#params = next;
    this.#preset = presetName === undefined ? null : preset;
    if (changed.length > 0 || presetChanged) {
      this.emit('change', { snapshot: this.snapshot, changed, source });
      this.#schedulePersist();
    }
    return { ok: true, value: this.snapshot };
  }

  /**
   * Applies what the teacher's desired settings add up to (SPEC §5): the
   * preset (its travelling definition first, else this unit's own), the
   * parameters on top, the lock and the class rev, all or nothing. Lock and
   * rev are kept in memory only: the hub's retained settings bring them
   * back at every connect.
   */
  applyDesired(e: EffectiveSetting): Result<UnitSnapshot> {
    const target = targetValues(e, (name) => this.#presets.get(name)?.params ?? null);
    if (!target.ok) return target;
    const checked = validatePartial(target.value);
    if (!checked.ok) return checked;
    const next = { ...this.#params, ...checked.value };
    const changed = PARAM_NAMES.filter((n) => next[n] !== this.#params[n]);
    // As with a set: a preset stays named only while nothing is laid over it,
    // and parameters that change nothing leave the preset's name alone.
    const preset = e.preset ? (Object.keys(e.params).length === 0 ? e.preset.name : null) : changed.length > 0 ? null : this.#preset;
    const persist = changed.length > 0 || preset !== this.#preset;
    const other = e.classRev !== this.#classRev || JSON.stringify(lockedField(e.lock)) !== JSON.stringify(lockedField(this.#lock));
    this.#params = next;
    this.#preset = preset;
    this.#lock = e.lock;
    this.#classRev = e.classRev;
    if (persist || other) this.emit('change', { snapshot: this.snapshot, changed, source: 'desired' });
    if (persist) this.#schedulePersist();
    return { ok: true, value: this.snapshot };
  }

  /** Writes pending state now (at shutdown). */
  async flush(): Promise<void> {
    if (this.#persistTimer) {
      clearTimeout(this.#persistTimer);
      this.#persistTimer = null;
      this.#persisting = this.#persisting.then(() => this.#write());
    }
    await this.#persisting;
  }

  #schedulePersist(): void {
    if (!this.opts.stateDir || this.#persistTimer) return;
    this.#persistTimer = setTimeout(() => {
      this.#persistTimer = null;
      this.#persisting = this.#persisting.then(() => this.#write());
    }, this.opts.persistDelayMs ?? 250);
  }

  async #write(): Promise<void> {
    if (!this.opts.stateDir) return;
    // Only what differs from defaults + config is saved, so a later edit of
    // the config file still takes effect for everything not changed live.
    const base = baseline(this.opts);
    const changed = Object.fromEntries(PARAM_NAMES.filter((n) => this.#params[n] !== base[n]).map((n) => [n, this.#params[n]]));
    const doc = { version: 1, preset: this.#preset, params: changed };
    try {
      await writeFileAtomic(stateFile(this.opts.stateDir), JSON.stringify(doc, null, 2) + '\n');
    } catch (e) {
      this.opts.log.error(`could not save parameters in ${this.opts.stateDir}: ${(e as Error).message}`);
    }
  }
}

function baseline(opts: UnitStateOptions): ParamValues {
  return { ...defaultParams(), ...opts.config };
}

async function readStateFile(path: string, log: Logger): Promise<SavedState | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`could not read ${path} (${(e as Error).message}); starting from defaults.`);
    return null;
  }
  let problem: string | null = null;
  let result: SavedState | null = null;
  try {
    const doc = JSON.parse(text) as { params?: unknown; preset?: unknown };
    const r = validatePartial(doc.params ?? {});
    if (r.ok) result = { params: r.value, preset: typeof doc.preset === 'string' ? doc.preset : null };
    else problem = r.error;
  } catch {
    problem = 'it is not valid JSON';
  }
  if (result) return result;
  // Keep the bad file beside the new one, so nothing the user had is lost.
  const kept = `${path}.corrupt-${Date.now()}`;
  await rename(path, kept).catch(() => undefined);
  log.warn(`saved state ${path} is unusable (${problem}); starting from defaults, old file kept as ${kept}.`);
  return null;
}

/** Built-in presets plus the user's from stateDir/presets/*.json, by name. */
export async function loadPresets(stateDir: string | null, log: Logger): Promise<Map<string, Preset>> {
  return new Map((await PresetStore.load(stateDir, log)).list().map((p) => [p.name, p]));
}
