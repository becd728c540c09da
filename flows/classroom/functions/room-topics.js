// Subscribes the "from the hub" MQTT input to what the console shows of
// every unit, and to the class and group settings. Meters (20 Hz) are not
// here: the room model subscribes to one unit's meters only while a page
// shows that unit large. The base topic comes from the environment, so one
// flow file serves any hub; Node-RED only substitutes whole-property
// ${VARS}, hence this node.
// The topic grammar is the unit's own (src/mqtt/topics.ts), copied in when the flow is built.
const topics = (/* @inject topicGrammar */ null)();
const base = env.get('PICOMP_BASE_TOPIC') || topics.DEFAULT_BASE_TOPIC;
node.status({ fill: 'green', shape: 'dot', text: base });
const everyUnit = { kind: 'unit', unit: '+' };
// `+/desired` also matches the class setting (class/desired); a group's is one level deeper.
const leaves = ['availability', 'info', 'state', 'levels', 'ack', 'error', 'desired'];
return {
    action: 'subscribe',
    topic: leaves.map((l) => ({ topic: topics.topicOf(base, everyUnit, l), qos: 1 }))
        .concat([{ topic: topics.topicOf(base, { kind: 'group', group: '+' }, 'desired'), qos: 1 }]),
};
