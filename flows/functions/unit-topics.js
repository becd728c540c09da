// Subscribes the "unit" MQTT input to this unit's topics. The unit id and
// base topic come from environment variables, so one flow file serves any
// unit; Node-RED only substitutes whole-property ${VARS}, hence this node.
// The topic grammar is the unit's own (src/mqtt/topics.ts), copied in when the flow is built.
const topics = (/* @inject topicGrammar */ null)();
const base = env.get('PICOMP_BASE_TOPIC') || topics.DEFAULT_BASE_TOPIC;
const unit = env.get('PICOMP_UNIT');
if (!unit) {
    node.error('PICOMP_UNIT is not set: tell the flow which unit to show (see flows/README.md).');
    node.status({ fill: 'red', shape: 'ring', text: 'PICOMP_UNIT not set' });
    return null;
}
node.status({ fill: 'green', shape: 'dot', text: base + '/' + unit });
// One level below the unit: availability, info, state, meters, error
// (and our own `set`, which the model ignores).
return { action: 'subscribe', topic: topics.anyLeafFilter(base, { kind: 'unit', unit }), qos: 0 };
