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
import { DASHBOARD_PATH, FLOWS_DIR, buildDashboardFlow, includeShared, injectSources, type FlowNode } from '../dashboard/flow.js';

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

/**
 * A node like the unit dashboard's node of that type (its theme, its MQTT
 * broker settings, its ui-base options), with this flow's id and changes:
 * the console looks and connects like the unit dashboard and follows it.
 */
function likeDashboard(dashboard: readonly FlowNode[], type: string, changes: Partial<FlowNode> & { id: string }): FlowNode {
  const n = dashboard.find((x) => x.type === type);
  if (!n) throw new Error(`the unit dashboard's flow has no ${type} node to copy`);
  const copy: FlowNode = { ...structuredClone(n), ...changes };
  for (const k of ['x', 'y', 'z', 'wires'] as const) if (!(k in changes)) delete copy[k];
  return copy;
}

export function buildClassroomFlow(): FlowNode[] {
  const dashboard = buildDashboardFlow();
  const like = (type: string, changes: Partial<FlowNode> & { id: string }): FlowNode => likeDashboard(dashboard, type, changes);
  const tab = nodeId('tab');
  const base = nodeId('ui-base');
  const theme = nodeId('ui-theme');
  const page = nodeId('ui-page');
  const group = nodeId('ui-group');
  const broker = CLASSROOM_BROKER_NODE_ID;
  const topics = nodeId('fn-topics');
  const mqttIn = nodeId('mqtt-in');
  const model = nodeId('fn-model');
  const mqttOut = nodeId('mqtt-out');
  const panel = nodeId('template-console');
  const fn = (id: string, name: string, file: string, outputs: number, x: number, y: number, wires: string[][]): FlowNode => ({
    id, type: 'function', z: tab, name, func: injectSources(source('functions/' + file), file),
    outputs, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x, y, wires,
  });

  return [
    {
      id: tab, type: 'tab', label: 'picomp classroom', disabled: false,
      info: 'The teacher\'s console: every picomp unit on the hub as a card, the class setting, locks, '
        + 'one unit large for the projector and two units side by side.\n\n'
        + 'Talks to the hub over MQTT only. Set PICOMP_MQTT_HOST, PICOMP_MQTT_PORT (and PICOMP_BASE_TOPIC) '
        + 'in the environment of Node-RED; see docs/classroom.md.',
      env: [],
    },
    like('ui-base', { id: base, name: 'picomp classroom', path: DASHBOARD_PATH }),
    like('ui-theme', { id: theme, name: 'picomp classroom' }),
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
    like('mqtt-broker', { id: broker, name: 'picomp hub' }),
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
    like('inject', { id: nodeId('inject-start'), z: tab, x: 130, y: 100, wires: [[topics]] }),
    fn(topics, 'room topics', 'room-topics.js', 1, 290, 100, [[mqttIn]]),
    like('mqtt in', { id: mqttIn, z: tab, name: 'from the hub', qos: '1', broker, x: 470, y: 100, wires: [[model]] }),
    {
      ...fn(model, 'room model', 'room-model.js', 3, 660, 160, [[panel], [mqttOut], [mqttIn]]),
      outputLabels: ['to the page', 'to the hub (desired, set)', 'meter subscriptions'],
    },
    like('mqtt out', { id: mqttOut, z: tab, name: 'to the hub', broker, x: 900, y: 240, wires: [] }),
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
