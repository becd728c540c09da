// Subscribes the "from the hub" MQTT input to what the console shows of
// every unit, and to the class and group settings. Meters (20 Hz) are not
// here: the room model subscribes to one unit's meters only while a page
// shows that unit large. The base topic comes from the environment, so one
// flow file serves any hub; Node-RED only substitutes whole-property
// ${VARS}, hence this node.
const base = env.get('PICOMP_BASE_TOPIC') || 'picomp';
node.status({ fill: 'green', shape: 'dot', text: base + '/#' });
// `+/desired` also matches `class/desired`; the group settings are one level deeper.
const leaves = ['availability', 'info', 'state', 'levels', 'ack', 'error', 'desired'];
return {
    action: 'subscribe',
    topic: leaves.map((l) => ({ topic: base + '/+/' + l, qos: 1 })).concat([{ topic: base + '/group/+/desired', qos: 1 }]),
};
