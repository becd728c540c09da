// The dashboard's picture of the unit. Everything the unit says on MQTT
// comes in here and is sorted into two streams for the panels:
//   output 1: the unit snapshot {unit, online, info, state, error}, sent
//             when it changes and whenever a panel says "hello" (a panel
//             that opens later must not wait for the next change);
//   output 2: meter frames, passed straight through (at meter_rate) to
//             the Meters panel only: it hands each frame to the other panels
//             inside the page. Every ui-template a message is wired to is one
//             more socket message and store update in every browser, which
//             cost more than all the drawing;
//   output 3: commands from the controls, as JSON for picomp/<unit>/set,
//             and preset commands for picomp/<unit>/preset/<action>.
// The topic grammar is the unit's own (src/mqtt/topics.ts), copied in when the flow is built.
const topics = (/* @inject topicGrammar */ null)();
const base = env.get('PICOMP_BASE_TOPIC') || topics.DEFAULT_BASE_TOPIC;
const unit = env.get('PICOMP_UNIT') || '';
const me = { kind: 'unit', unit };

const snap = context.get('snapshot') || { unit, base, online: false, info: null, state: null, error: null };
const publishSnapshot = () => {
    context.set('snapshot', snap);
    return [{ topic: 'picomp/unit', payload: snap }, null, null];
};
const parse = (p) => {
    if (typeof p !== 'string') return p;
    try { return JSON.parse(p); } catch (e) { return null; }
};

// From the panels.
if (msg.topic === 'hello') return publishSnapshot();
if (msg.topic === 'set') {
    if (!msg.payload || typeof msg.payload !== 'object') return null;
    return [null, null, { topic: topics.topicOf(base, me, 'set'), payload: JSON.stringify(msg.payload), qos: 1, retain: false }];
}
if (msg.topic === 'preset') {
    if (!topics.PRESET_ACTIONS.includes(msg.action) || !msg.payload || typeof msg.payload !== 'object') return null;
    return [null, null, { topic: topics.topicOf(base, me, 'preset', msg.action), payload: JSON.stringify(msg.payload), qos: 1, retain: false }];
}

// From the unit.
const t = typeof msg.topic === 'string' ? topics.parseTopic(base, msg.topic) : null;
if (!t || t.kind !== 'unit' || t.unit !== unit || t.deeper) return null;
switch (t.leaf) {
    case 'meters': {
        const m = parse(msg.payload);
        if (!m) return null;
        return [null, { topic: 'picomp/meters', payload: m }, null];
    }
    case 'availability':
        snap.online = String(msg.payload).trim() === 'online';
        node.status({ fill: snap.online ? 'green' : 'grey', shape: 'dot', text: unit + ' ' + (snap.online ? 'online' : 'offline') });
        return publishSnapshot();
    case 'info':
        snap.info = parse(msg.payload);
        return publishSnapshot();
    case 'state':
        snap.state = parse(msg.payload);
        return publishSnapshot();
    case 'error': {
        const e = parse(msg.payload);
        snap.error = { message: (e && e.error) || String(msg.payload), at: Date.now() };
        return publishSnapshot();
    }
    default:
        return null;
}
