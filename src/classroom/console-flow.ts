/**
 * Builds the Node-RED flow of the teacher's console
 * (flows/classroom/picomp-classroom.json) from its readable sources in
 * flows/classroom/: the page template (templates/console.vue) and the
 * function-node code (functions/*.js), in the way the unit dashboard's flow
 * is built (src/dashboard/flow.ts). The committed JSON is this module's
 * output; a test checks they are the same.
 *
 * Like the unit dashboard, the console restates no parameter range: the
 * controls are built in the browser from the schema in the units' retained
 * `info` documents.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { DASHBOARD_PATH, FLOWS_DIR, includeShared, injectSources, type FlowNode } from '../dashboard/flow.js';

export const CLASSROOM_DIR = FLOWS_DIR + 'classroom/';
export const CLASSROOM_FLOW_FILE = CLASSROOM_DIR + 'picomp-classroom.json';
/** The console page, below the dashboard's root (DASHBOARD_PATH). */
export const CLASSROOM_PAGE_PATH = '/classroom';

/** Stable ids, so rebuilding the flow gives the same file (and clean diffs). */
function nodeId(name: string): string {
  return createHash('sha1').update('picomp-classroom/' + name).digest('hex').slice(0, 16);
}

export const CLASSROOM_BROKER_NODE_ID = nodeId('mqtt-broker');

function source(rel: string): string {
  return readFileSync(CLASSROOM_DIR + rel, 'utf8');
}

export function buildClassroomFlow(): FlowNode[] {
  const tab = nodeId('tab');
  const base = nodeId('ui-base');
  const theme = nodeId('ui-theme');
  const page = nodeId('ui-page');
  const group = nodeId('ui-group');
  const broker = CLASSROOM_BROKER_NODE_ID;
  const start = nodeId('inject-start');
  const topics = nodeId('fn-topics');
  const mqttIn = nodeId('mqtt-in');
  const model = nodeId('fn-model');
  const mqttOut = nodeId('mqtt-out');
  const panel = nodeId('template-console');

  return [
    {
      id: tab, type: 'tab', label: 'picomp classroom', disabled: false,
      info: 'The teacher\'s console: every picomp unit on the hub as a card, the class setting, locks, '
        + 'one unit large for the projector and two units side by side.\n\n'
        + 'Talks to the hub over MQTT only. Set PICOMP_MQTT_HOST, PICOMP_MQTT_PORT (and PICOMP_BASE_TOPIC) '
        + 'in the environment of Node-RED; see docs/classroom.md.',
      env: [],
    },
    {
      id: base, type: 'ui-base', name: 'picomp classroom', path: DASHBOARD_PATH, appIcon: '',
      includeClientData: true, acceptsClientConfig: ['ui-notification', 'ui-control'],
      showPathInSidebar: false, headerContent: 'page', navigationStyle: 'none', titleBarStyle: 'default',
      showReconnectNotification: true, notificationDisplayTime: 1, showDisconnectNotification: true, allowInstall: false,
    },
    {
      id: theme, type: 'ui-theme', name: 'picomp classroom',
      colors: { surface: '#17212b', primary: '#2a9d8f', bgPage: '#eef1f4', groupBg: '#ffffff', groupOutline: '#d9dee3' },
      sizes: { density: 'default', pagePadding: '14px', groupGap: '14px', groupBorderRadius: '8px', widgetGap: '10px' },
    },
    {
      id: page, type: 'ui-page', name: 'picomp classroom', ui: base, path: CLASSROOM_PAGE_PATH, icon: 'school',
      layout: 'grid', theme,
      breakpoints: [{ name: 'Default', px: 0, cols: 12 }],
      order: 1, className: '', visible: 'true', disabled: 'false',
    },
    {
      id: group, type: 'ui-group', name: 'Classroom', page, width: '12', height: '1', order: 1, showTitle: false,
      className: 'picomp-classroom', visible: 'true', disabled: 'false', groupType: 'default',
    },
    {
      id: broker, type: 'mqtt-broker', name: 'picomp hub',
      broker: '${PICOMP_MQTT_HOST}', port: '${PICOMP_MQTT_PORT}', clientid: '', autoConnect: true, usetls: false,
      protocolVersion: '4', keepalive: '30', cleansession: true, autoUnsubscribe: true,
      birthTopic: '', birthQos: '0', birthRetain: 'false', birthPayload: '', birthMsg: {},
      closeTopic: '', closeQos: '0', closeRetain: 'false', closePayload: '', closeMsg: {},
      willTopic: '', willQos: '0', willRetain: 'false', willPayload: '', willMsg: {},
      userProps: '', sessionExpiry: '',
    },
    {
      id: nodeId('comment-how'), type: 'comment', z: tab, name: 'How this flow works (double-click)',
      info: 'MQTT in → "room model" → the console page. The model keeps every unit\'s availability, state, '
        + '1 Hz levels, ack and desired setting, and the class and group settings, and sends the page what '
        + 'changed at most a few times a second. It subscribes to one unit\'s 20 Hz meters only while a page '
        + 'shows that unit large, and drops the subscription when no page asks for it any more.\n\n'
        + 'The page answers with "hello" (send everything), "push", "lock", "reset" and "focus"; the model '
        + 'publishes the retained desired settings (class, group, unit) with a new rev, or one-off set commands.',
      x: 190, y: 40, wires: [],
    },
    {
      id: start, type: 'inject', z: tab, name: 'on start', props: [], repeat: '', crontab: '',
      once: true, onceDelay: 0.1, topic: '', x: 130, y: 100, wires: [[topics]],
    },
    {
      id: topics, type: 'function', z: tab, name: 'room topics', func: injectSources(source('functions/room-topics.js'), 'room-topics.js'),
      outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 290, y: 100, wires: [[mqttIn]],
    },
    {
      id: mqttIn, type: 'mqtt in', z: tab, name: 'from the hub', topic: '', qos: '1', datatype: 'auto-detect',
      broker, nl: false, rap: true, rh: 0, inputs: 1, x: 470, y: 100, wires: [[model]],
    },
    {
      id: model, type: 'function', z: tab, name: 'room model', func: injectSources(source('functions/room-model.js'), 'room-model.js'),
      outputs: 3, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 660, y: 160,
      outputLabels: ['to the page', 'to the hub (desired, set)', 'meter subscriptions'],
      wires: [[panel], [mqttOut], [mqttIn]],
    },
    {
      id: mqttOut, type: 'mqtt out', z: tab, name: 'to the hub', topic: '', qos: '', retain: '',
      respTopic: '', contentType: '', userProps: '', correl: '', expiry: '', broker, x: 900, y: 240, wires: [],
    },
    {
      id: panel, type: 'ui-template', z: tab, group, page: '', ui: '', name: 'Classroom console',
      order: 1, width: '0', height: '0', head: '',
      format: injectSources(includeShared(source('templates/console.vue'), 'console.vue'), 'console.vue'),
      storeOutMessages: false, passthru: false, resendOnRefresh: false, templateScope: 'local', className: '',
      x: 900, y: 160, wires: [[model]],
    },
  ];
}

/** The flow as it is written to disk. */
export function classroomFlowJson(): string {
  return JSON.stringify(buildClassroomFlow(), null, 2) + '\n';
}

// `node dist/src/classroom/console-flow.js` rewrites the committed flow after a source edit.
if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(CLASSROOM_FLOW_FILE, classroomFlowJson());
  process.stdout.write(`wrote ${CLASSROOM_FLOW_FILE}\n`);
}
