// The console's picture of the room. Everything the units and the hub say
// comes in here; the page gets what changed, a few times a second at most:
//   output 1: to the page: {topic: 'room', payload: {full, units: [...], ...}}
//             (the units that changed, or everything after a "hello"), and
//             {topic: 'meters', unit, payload: frame} for a unit shown large;
//   output 2: to the hub: retained desired settings (class, group, unit)
//             with a new rev, one-off set commands, or an empty retained
//             payload that clears a unit's own setting;
//   output 3: to the MQTT input: (un)subscribe one unit's 20 Hz meters.
// A room of 30 units sends 30 level messages a second; sending each to the
// page as it comes would re-render the cards 30 times a second.
// The topic grammar is the unit's own (src/mqtt/topics.ts), copied in when the flow is built.
const topics = (/* @inject topicGrammar */ null)();
const base = env.get('PICOMP_BASE_TOPIC') || topics.DEFAULT_BASE_TOPIC;
// A page showing a unit large says so every few seconds; a page that went
// away stops saying it, and its meter subscription is dropped after this.
const FOCUS_TTL_MS = 25000;
// What the teacher acts on (online, state, ack, settings) reaches the page
// within FLUSH_MS; levels alone (1 a second per unit) wait up to LEVELS_FLUSH_MS.
const FLUSH_MS = 300;
const LEVELS_FLUSH_MS = 1000;
const MAX_UNITS = 2000;

let room = context.get('room');
if (!room) {
    room = {
        units: {}, classDesired: null, groupDesired: {}, presets: {}, schema: null,
        dirty: new Set(), full: false, timer: null, focus: {}, metersSubs: new Set(), maxRev: 0,
    };
    context.set('room', room);
}

const parse = (p) => {
    if (Buffer.isBuffer(p)) p = p.toString('utf8');
    if (typeof p !== 'string') return p;
    if (p === '') return null;
    try { return JSON.parse(p); } catch (e) { return undefined; }
};
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const validName = (s) => typeof s === 'string' && topics.UNIT_ID_PATTERN.test(s);
const validUnit = (s) => validName(s) && !topics.RESERVED_IDS.includes(s);

function unitEntry(id) {
    let u = room.units[id];
    if (!u) {
        if (Object.keys(room.units).length >= MAX_UNITS) return null;
        u = room.units[id] = { id, online: false, version: null, state: null, levels: null, ack: null, error: null, desired: null, presets: [] };
    }
    return u;
}

function noteRev(doc) {
    // Only revs the units accept (src/unit/desired.ts: a safe whole number from 0), so a forged 1e20 cannot make the console publish revs every unit refuses.
    if (isObject(doc) && Number.isSafeInteger(doc.rev) && doc.rev >= 0 && doc.rev < Number.MAX_SAFE_INTEGER) room.maxRev = Math.max(room.maxRev, doc.rev);
}

// ---- what each unit should have, and where it differs
// The layers add up as the unit adds them (src/classroom/desired.ts):
// class, then the unit's groups in its own order, then its own setting; a
// layer naming a preset starts over from that preset (on the defaults), its
// params go on top, and the most specific layer that mentions `lock` decides it.
function layersOf(u) {
    const groups = (u.state && Array.isArray(u.state.groups)) ? u.state.groups : [];
    return [room.classDesired].concat(groups.map((g) => room.groupDesired[g] || null), [u.desired]).filter(isObject);
}
function defaults() {
    const d = {};
    for (const p of room.schema || []) if (p && typeof p.name === 'string') d[p.name] = p.default;
    return d;
}
// The values the layers ask for, or null when nothing asks for anything.
function target(layers) {
    let preset = null, params = {}, any = false;
    for (const l of layers) {
        if (typeof l.preset === 'string') {
            preset = isObject(l.preset_def) ? l.preset_def : (room.presets[l.preset] ? room.presets[l.preset].params : {});
            params = {};
            any = true;
        }
        if (isObject(l.params)) { params = Object.assign(params, l.params); any = true; }
    }
    if (!any) return null;
    return preset ? Object.assign(defaults(), preset, params) : params;
}
function differences(u, want) {
    const s = u.state;
    if (!s || !want) return [];
    return Object.keys(want).filter((k) => k in s && s[k] !== want[k]);
}

function view(u) {
    const layers = layersOf(u);
    const want = target(layers);
    const s = u.state || {};
    return {
        id: u.id, online: u.online, version: u.version,
        params: u.state, preset: s.preset === undefined ? null : s.preset,
        groups: Array.isArray(s.groups) ? s.groups : [],
        locked: s.locked === undefined ? false : s.locked,
        classRev: s.class_rev === undefined ? null : s.class_rev,
        levels: u.levels, ack: u.ack, error: u.error, desired: u.desired,
        governed: want !== null,
        differs: differences(u, want),
    };
}

// ---- to the page, coalesced
function flush() {
    room.timer = null;
    const full = room.full;
    const ids = full ? Object.keys(room.units) : [...room.dirty];
    room.full = false;
    room.dirty.clear();
    pruneFocus();
    const payload = {
        full, base, units: ids.filter((id) => room.units[id]).map((id) => view(room.units[id])),
        classDesired: room.classDesired, groupDesired: room.groupDesired,
        presets: Object.keys(room.presets).sort().map((n) => ({ name: n, description: room.presets[n].description })),
        schema: full ? room.schema : undefined,
        focus: [...room.metersSubs],
    };
    node.status({ fill: 'green', shape: 'dot', text: Object.keys(room.units).length + ' units' });
    node.send([{ topic: 'room', payload }, null, null]);
}
// touch(id): that unit changed; touch(null): everything (a setting, a new page); touch(): only the room's figures.
function touch(id, levelsOnly) {
    if (id === null) room.full = true; else if (id !== undefined) room.dirty.add(id);
    const due = Date.now() + (levelsOnly ? LEVELS_FLUSH_MS : FLUSH_MS);
    if (room.timer && room.due <= due) return;
    if (room.timer) clearTimeout(room.timer);
    room.due = due;
    room.timer = setTimeout(flush, due - Date.now());
}

// ---- meters of the units shown large, subscribed only while shown
function meterTopic(id) { return topics.topicOf(base, { kind: 'unit', unit: id }, 'meters'); }
function syncMeterSubs() {
    const want = new Set(Object.values(room.focus).map((f) => f.unit));
    const subs = [], unsubs = [];
    for (const id of want) if (!room.metersSubs.has(id)) { room.metersSubs.add(id); subs.push({ topic: meterTopic(id), qos: 0 }); }
    for (const id of [...room.metersSubs]) if (!want.has(id)) { room.metersSubs.delete(id); unsubs.push(meterTopic(id)); }
    const out = [];
    if (subs.length) out.push({ action: 'subscribe', topic: subs });
    if (unsubs.length) out.push({ action: 'unsubscribe', topic: unsubs });
    if (out.length) node.send([null, null, out]);
}
function pruneFocus() {
    const now = Date.now();
    let changed = false;
    for (const k of Object.keys(room.focus)) if (now - room.focus[k].at > FOCUS_TTL_MS) { delete room.focus[k]; changed = true; }
    if (changed) syncMeterSubs();
}

// ---- to the hub
// The address of a scope: the class (every unit), a group or one unit.
function addressOf(scope, target) {
    if (scope === 'class') return { kind: 'class' };
    if (scope === 'group') return validName(target) ? { kind: 'group', group: target } : null;
    if (scope === 'unit') return validUnit(target) ? { kind: 'unit', unit: target } : null;
    return null;
}
function desiredTopic(scope, target) {
    const a = addressOf(scope, target);
    return a ? topics.topicOf(base, a, 'desired') : null;
}
// One-off commands: all/set stands for the class.
function setTopic(scope, target) {
    const a = addressOf(scope, target);
    return a ? topics.topicOf(base, a.kind === 'class' ? { kind: 'all' } : a, 'set') : null;
}
function currentDesired(scope, target) {
    if (scope === 'class') return room.classDesired;
    if (scope === 'group') return room.groupDesired[target] || null;
    return room.units[target] ? room.units[target].desired : null;
}
// A new setting keeps what the teacher did not change: its lock, and (for
// parameters) the preset it builds on. A new preset starts clean.
function nextDesired(scope, target, change) {
    const cur = currentDesired(scope, target) || {};
    const next = {};
    if (change.preset !== undefined) {
        next.preset = change.preset;
        if (room.presets[change.preset]) next.preset_def = room.presets[change.preset].params;
    } else {
        if (cur.preset !== undefined) next.preset = cur.preset;
        if (cur.preset_def !== undefined) next.preset_def = cur.preset_def;
    }
    const params = Object.assign({}, change.preset === undefined && isObject(cur.params) ? cur.params : {}, change.params || {});
    if (Object.keys(params).length) next.params = params;
    const lock = change.lock !== undefined ? change.lock : cur.lock;
    // false is kept: a unit's own `lock: false` unlocks it inside a locked class.
    if (lock !== undefined) next.lock = lock;
    room.maxRev = Math.max(room.maxRev + 1, 1);
    next.rev = room.maxRev;
    return next;
}
function publish(topic, payload, retain) {
    return { topic, payload: typeof payload === 'string' ? payload : JSON.stringify(payload), qos: 1, retain };
}

// What the page asks for is checked against the units' own schema (from
// their info) before anything is published: a bad value would otherwise be
// refused by every unit of the room at once. The answer is one sentence.
function paramProblem(params) {
    const schema = room.schema || [];
    for (const [name, v] of Object.entries(params)) {
        const d = schema.find((x) => x && x.name === name);
        if (!d) return name + ' is not a parameter of these units.';
        if (d.kind === 'number' && !(typeof v === 'number' && isFinite(v) && v >= d.min && v <= d.max)) return d.label + ' must be ' + d.min + ' to ' + d.max + ' ' + d.unit + '.';
        if (d.kind === 'bool' && typeof v !== 'boolean') return d.label + ' must be on or off.';
        if (d.kind === 'enum' && !d.options.includes(v)) return d.label + ' must be one of ' + d.options.join(', ') + '.';
    }
    return null;
}
function notice(text) { return [{ topic: 'notice', payload: { text } }, null, null]; }

function fromPage(msg) {
    const p = isObject(msg.payload) ? msg.payload : {};
    switch (msg.topic) {
        case 'hello':
            touch(null);
            return null;
        case 'focus': {
            const key = (msg._client && msg._client.socketId) || 'page';
            if (validUnit(p.unit)) room.focus[key] = { unit: p.unit, at: Date.now() };
            else delete room.focus[key];
            syncMeterSubs();
            // The page learns the subscriptions with the next update.
            touch();
            return null;
        }
        case 'push': {
            const change = {};
            if (typeof p.preset === 'string' && p.preset) change.preset = p.preset;
            if (isObject(p.params) && Object.keys(p.params).length) change.params = p.params;
            if (!change.preset && !change.params) return null;
            if (change.preset && !room.presets[change.preset]) return notice('No unit on the hub has a preset called ' + change.preset + '.');
            const problem = change.params ? paramProblem(change.params) : null;
            if (problem) return notice(problem);
            if (p.once) {
                const t = setTopic(p.scope, p.target);
                const cmd = Object.assign({}, change.params || {}, change.preset ? { preset: change.preset } : {});
                return t ? [null, publish(t, cmd, false), null] : null;
            }
            const t = desiredTopic(p.scope, p.target);
            return t ? [null, publish(t, nextDesired(p.scope, p.target, change), true), null] : null;
        }
        case 'lock': {
            const t = desiredTopic(p.scope, p.target);
            const names = (room.schema || []).map((d) => d.name);
            const lock = p.lock === true || p.lock === false ? p.lock
                : (Array.isArray(p.lock) && p.lock.every((n) => names.includes(n)) ? p.lock : null);
            if (!t || lock === null) return notice('Lock takes all parameters or a list of parameter names.');
            return [null, publish(t, nextDesired(p.scope, p.target, { lock }), true), null];
        }
        case 'reset': {
            // The unit's own setting goes; the group's or class's applies again.
            const t = desiredTopic(p.scope || 'unit', p.target);
            return t ? [null, publish(t, '', true), null] : null;
        }
        default:
            return null;
    }
}

function fromHub(msg) {
    const t = topics.parseTopic(base, msg.topic);
    if (!t || t.deeper) return null;
    if (t.kind === 'group' && t.leaf === 'desired') {
        if (!validName(t.group)) return null;
        const doc = parse(msg.payload);
        if (isObject(doc)) { room.groupDesired[t.group] = doc; noteRev(doc); } else delete room.groupDesired[t.group];
        touch(null);
        return null;
    }
    if (t.kind === 'class' && t.leaf === 'desired') {
        const doc = parse(msg.payload);
        room.classDesired = isObject(doc) ? doc : null;
        noteRev(doc);
        touch(null);
        return null;
    }
    if (t.kind !== 'unit' || !validUnit(t.unit)) return null;
    const id = t.unit, leaf = t.leaf;
    if (leaf === 'meters') {
        if (!room.metersSubs.has(id)) return null;
        const frame = parse(msg.payload);
        return isObject(frame) ? [{ topic: 'meters', unit: id, payload: frame }, null, null] : null;
    }
    // A retained topic cleared (e.g. a retired unit): forget what it said.
    const empty = msg.payload === '' || (Buffer.isBuffer(msg.payload) && msg.payload.length === 0);
    const u = room.units[id] || (empty ? null : unitEntry(id));
    if (!u) return null;
    switch (leaf) {
        case 'availability':
            u.online = String(msg.payload).trim() === topics.AVAILABILITY_ONLINE;
            if (empty && !u.state) { delete room.units[id]; touch(null); return null; }
            break;
        case 'info': {
            const info = parse(msg.payload);
            if (!isObject(info)) break;
            u.version = typeof info.version === 'string' ? info.version : null;
            const schema = Array.isArray(info.params) ? info.params : info.schema;
            if (Array.isArray(schema) && !room.schema) { room.schema = schema; room.full = true; }
            if (Array.isArray(info.presets)) {
                u.presets = info.presets.map((x) => x && x.name).filter((n) => typeof n === 'string');
                for (const pr of info.presets) {
                    if (pr && typeof pr.name === 'string' && isObject(pr.params) && !room.presets[pr.name]) {
                        room.presets[pr.name] = { description: typeof pr.description === 'string' ? pr.description : '', params: pr.params };
                    }
                }
            }
            break;
        }
        case 'state': {
            const s = parse(msg.payload);
            u.state = isObject(s) ? s : null;
            break;
        }
        case 'levels': {
            const l = parse(msg.payload);
            if (!isObject(l)) return null;
            // Only the figures a card shows, as numbers: the page never holds more than it draws.
            const num = (v) => (typeof v === 'number' && isFinite(v) ? v : null);
            u.levels = { gr: num(l.gr), in_peak: num(l.in_peak), out_peak: num(l.out_peak), clips: num(l.clips), xruns: num(l.xruns) };
            touch(id, true);
            return null;
        }
        case 'ack': {
            const a = parse(msg.payload);
            if (isObject(a)) {
                u.ack = {
                    rev: a.rev, ok: a.ok === true, error: typeof a.error === 'string' ? a.error : null,
                    level: typeof a.level === 'string' ? a.level : null, group: typeof a.group === 'string' ? a.group : null, at: Date.now(),
                };
            }
            break;
        }
        case 'error': {
            const e = parse(msg.payload);
            u.error = { message: ((isObject(e) && typeof e.error === 'string') ? e.error : String(msg.payload)).slice(0, 300), at: Date.now() };
            break;
        }
        case 'desired': {
            const d = parse(msg.payload);
            u.desired = isObject(d) ? d : null;
            noteRev(d);
            break;
        }
        default:
            return null;
    }
    touch(id);
    return null;
}

if (typeof msg.topic !== 'string') return null;
// Messages from the page carry the page's client; MQTT ones never do.
if (msg._client || !msg.topic.includes('/')) return fromPage(msg);
return fromHub(msg);
