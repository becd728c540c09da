/**
 * Builds the Node-RED flow of the dashboard (flows/picomp-dashboard.json)
 * from its readable sources: the panel templates in flows/templates/*.vue
 * and the function-node code in flows/functions/*.js. The committed JSON is
 * this function's output (a test checks they are the same), so people who
 * only want to import the flow need nothing but the JSON file.
 *
 * No parameter range is written here: the controls panel builds itself at
 * run time from the schema in the unit's retained `info` document, so the
 * flow follows whatever unit version it talks to.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { autoMakeupDb, staticCurveDb } from '../dsp/gain-computer.js';
import { transferDb } from '../dsp/transfer.js';
import { topicGrammar } from '../mqtt/topics.js';

/** The flows/ folder of the repository (this file runs from dist/src/dashboard/). */
export const FLOWS_DIR = fileURLToPath(new URL('../../../flows/', import.meta.url));
export const FLOW_FILE = FLOWS_DIR + 'picomp-dashboard.json';

/** Where the dashboard is served, relative to Node-RED's HTTP root. */
export const DASHBOARD_PATH = '/dashboard';
/**
 * The unit page's own path under the dashboard: never `/`, which a user's
 * own Dashboard 2.0 usually has, so importing the flow beside it leaves
 * both pages working (the classroom console is `/classroom`).
 */
export const DASHBOARD_PAGE_PATH = '/picomp';
/** The unit page relative to Node-RED's HTTP root: `/dashboard/picomp`. */
export const DASHBOARD_PAGE_URL_PATH = DASHBOARD_PATH + DASHBOARD_PAGE_PATH;

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  wires?: string[][];
  [key: string]: unknown;
}

/** Stable ids, so rebuilding the flow gives the same file (and clean diffs). */
function nodeId(name: string): string {
  return createHash('sha1').update('picomp-dashboard/' + name).digest('hex').slice(0, 16);
}

function source(rel: string): string {
  return readFileSync(FLOWS_DIR + rel, 'utf8');
}

/**
 * A function's code as the browser (or a function node) gets it: comment
 * lines are dropped, so only a change of the code itself calls for a
 * rebuilt flow.
 */
export function formulaSource(fn: (...a: never[]) => unknown): string {
  return fn.toString().split('\n').filter((l) => !/^\s*(\/\/|\/\*\*|\*)/.test(l)).join('\n');
}

type AnyFunction = (...a: never[]) => unknown;

/**
 * The unit's own code that the flow carries a copy of, with the functions
 * each one calls: the transfer function for the curve panel, so the
 * picture and the audio engine use one formula (SPEC §2.1, §2.4), and the
 * topic grammar for the function nodes, so the flow and the unit agree on
 * every topic (SPEC §4, §5).
 */
const INJECTED: Record<string, { fn: AnyFunction; uses: AnyFunction[] }> = {
  transferDb: { fn: transferDb, uses: [staticCurveDb, autoMakeupDb] },
  topicGrammar: { fn: topicGrammar, uses: [] },
};

/** A function's source, with the functions it calls bound by name around it. */
export function injectedSource(name: string): string {
  const entry = INJECTED[name];
  if (!entry) throw new Error(`unknown injected code ${name}`);
  if (entry.uses.length === 0) return formulaSource(entry.fn);
  const helpers = entry.uses.map((f) => `const ${f.name} = ${formulaSource(f)};`).join('\n');
  return `(() => {\n${helpers}\nreturn ${formulaSource(entry.fn)};\n})()`;
}

/** Replaces each `/* @inject NAME *\/ null` in `code` with NAME's source. */
export function injectSources(code: string, where: string): string {
  return code.replace(/\/\* @inject (\w+) \*\/ null/g, (_m, name: string) => {
    if (!INJECTED[name]) throw new Error(`${where} asks for unknown code ${name}`);
    return injectedSource(name);
  });
}

/**
 * The members of a shared snippet, flows/templates/shared/NAME.js: the body
 * of its `export default { … };`, as lines without their own indentation.
 */
export function sharedMembers(name: string): string[] {
  const js = source('templates/shared/' + name + '.js');
  const body = /^export default \{\n([\s\S]*?)\n\};\s*$/m.exec(js);
  if (!body) throw new Error(`templates/shared/${name}.js must be one \`export default { … };\``);
  return body[1]!.split('\n').map((l) => l.replace(/^ {2}/, ''));
}

/**
 * Ui-templates are components of their own and cannot import, so code the
 * panels share is copied in at build time: a comment `@include NAME` alone
 * on a line of a panel's options (inside `methods`) becomes the members of
 * flows/templates/shared/NAME.js, indented like the marker. The panel stays
 * one `export default { … }`.
 */
export function includeShared(vue: string, panel: string): string {
  const out = vue.replace(/^([ \t]*)\/\* @include ([\w-]+) \*\/[ \t]*$/gm, (_m, indent: string, name: string) =>
    sharedMembers(name).map((l) => (l ? indent + l : l)).join('\n'));
  if (out.includes('@include')) throw new Error(`${panel}: an @include marker must stand alone on its line`);
  return out;
}

interface PanelSpec {
  key: string;
  title: string;
  width: number;
  height: number;
  order: number;
  template: string;
  showTitle: boolean;
}

const PANELS: readonly PanelSpec[] = [
  { key: 'health', title: 'Unit', width: 12, height: 1, order: 1, template: 'health.vue', showTitle: false },
  { key: 'controls', title: 'Controls', width: 4, height: 14, order: 2, template: 'controls.vue', showTitle: true },
  { key: 'curve', title: 'Transfer curve', width: 4, height: 6, order: 3, template: 'curve.vue', showTitle: true },
  { key: 'meters', title: 'Meters', width: 4, height: 6, order: 4, template: 'meters.vue', showTitle: true },
  { key: 'history', title: 'Last 10 seconds', width: 8, height: 5, order: 5, template: 'history.vue', showTitle: true },
];

export function buildDashboardFlow(): FlowNode[] {
  const tab = nodeId('tab');
  const base = nodeId('ui-base');
  const theme = nodeId('ui-theme');
  const page = nodeId('ui-page');
  const broker = nodeId('mqtt-broker');
  const start = nodeId('inject-start');
  const topics = nodeId('fn-topics');
  const mqttIn = nodeId('mqtt-in');
  const model = nodeId('fn-model');
  const mqttOut = nodeId('mqtt-out');
  const tpl = (k: string): string => nodeId('template-' + k);
  const grp = (k: string): string => nodeId('group-' + k);

  const nodes: FlowNode[] = [
    {
      id: tab, type: 'tab', label: 'picomp dashboard', disabled: false,
      info: 'The picomp unit page: controls, meters, transfer curve, history and health.\n\n'
        + 'Talks to one unit over MQTT only. Set PICOMP_UNIT (and PICOMP_MQTT_HOST, PICOMP_MQTT_PORT, '
        + 'PICOMP_BASE_TOPIC) in the environment of Node-RED; see flows/README.md.',
      env: [],
    },
    // Dashboard 2.0 keeps one ui-base's settings: imported beside a user's
    // own dashboard, the user's rule and these are dropped. So the page
    // relies on none of them (no client data, no ui-control, any navigation).
    {
      id: base, type: 'ui-base', name: 'picomp', path: DASHBOARD_PATH, appIcon: '',
      includeClientData: true, acceptsClientConfig: ['ui-notification', 'ui-control'],
      showPathInSidebar: false, headerContent: 'page', navigationStyle: 'none', titleBarStyle: 'default',
      showReconnectNotification: true, notificationDisplayTime: 1, showDisconnectNotification: true, allowInstall: false,
    },
    {
      id: theme, type: 'ui-theme', name: 'picomp',
      colors: { surface: '#17212b', primary: '#2a9d8f', bgPage: '#eef1f4', groupBg: '#ffffff', groupOutline: '#d9dee3' },
      sizes: { density: 'default', pagePadding: '14px', groupGap: '14px', groupBorderRadius: '8px', widgetGap: '10px' },
    },
    {
      id: page, type: 'ui-page', name: 'picomp compressor', ui: base, path: DASHBOARD_PAGE_PATH, icon: 'tune', layout: 'grid', theme,
      breakpoints: [
        { name: 'Default', px: 0, cols: 3 },
        { name: 'Tablet', px: 576, cols: 6 },
        { name: 'Small Desktop', px: 768, cols: 9 },
        { name: 'Desktop', px: 1024, cols: 12 },
      ],
      order: 1, className: '', visible: 'true', disabled: 'false',
    },
    {
      id: broker, type: 'mqtt-broker', name: 'picomp unit broker',
      broker: '${PICOMP_MQTT_HOST}', port: '${PICOMP_MQTT_PORT}', clientid: '', autoConnect: true, usetls: false,
      protocolVersion: '4', keepalive: '30', cleansession: true, autoUnsubscribe: true,
      birthTopic: '', birthQos: '0', birthRetain: 'false', birthPayload: '', birthMsg: {},
      closeTopic: '', closeQos: '0', closeRetain: 'false', closePayload: '', closeMsg: {},
      willTopic: '', willQos: '0', willRetain: 'false', willPayload: '', willMsg: {},
      userProps: '', sessionExpiry: '',
    },
    {
      id: nodeId('comment-how'), type: 'comment', z: tab, name: 'How this flow works (double-click)',
      info: 'MQTT in → "unit model" → panels. The model keeps the unit\'s last availability, info and state '
        + 'and sends them to the panels as one snapshot; meter frames go straight through to the Meters panel, '
        + 'which shares each frame with the curve, history and health panels inside the page. '
        + 'Panels answer with "hello" (send me the snapshot) or "set" (a command), which the model '
        + 'publishes on <base>/<unit>/set.\n\nEach panel is a ui-template: open it to read how it draws.',
      x: 190, y: 40, wires: [],
    },
    {
      id: start, type: 'inject', z: tab, name: 'on start', props: [], repeat: '', crontab: '',
      once: true, onceDelay: 0.1, topic: '', x: 130, y: 100, wires: [[topics]],
    },
    {
      id: topics, type: 'function', z: tab, name: 'unit topics', func: injectSources(source('functions/unit-topics.js'), 'unit-topics.js'),
      outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 290, y: 100, wires: [[mqttIn]],
    },
    {
      id: mqttIn, type: 'mqtt in', z: tab, name: 'from the unit', topic: '', qos: '0', datatype: 'auto-detect',
      broker, nl: false, rap: true, rh: 0, inputs: 1, x: 470, y: 100, wires: [[model]],
    },
    {
      id: model, type: 'function', z: tab, name: 'unit model', func: injectSources(source('functions/unit-model.js'), 'unit-model.js'),
      outputs: 3, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 660, y: 160,
      outputLabels: ['unit snapshot', 'meters (at meter_rate)', 'commands'],
      // Meters go to one panel, which shares each frame with the others in
      // the page: one socket message per frame instead of one per panel.
      wires: [
        [tpl('health'), tpl('controls'), tpl('curve'), tpl('history')],
        [tpl('meters')],
        [mqttOut],
      ],
    },
    {
      id: mqttOut, type: 'mqtt out', z: tab, name: 'to the unit (set)', topic: '', qos: '', retain: '',
      respTopic: '', contentType: '', userProps: '', correl: '', expiry: '', broker, x: 900, y: 300, wires: [],
    },
  ];

  for (const p of PANELS) {
    nodes.push({
      id: grp(p.key), type: 'ui-group', name: p.title, page, width: String(p.width), height: String(p.height),
      order: p.order, showTitle: p.showTitle, className: 'picomp-' + p.key, visible: 'true', disabled: 'false', groupType: 'default',
    });
    let format = includeShared(source('templates/' + p.template), p.template);
    format = injectSources(format, p.template);
    nodes.push({
      id: tpl(p.key), type: 'ui-template', z: tab, group: grp(p.key), page: '', ui: '', name: p.title,
      order: 1, width: '0', height: '0', head: '', format, storeOutMessages: true, passthru: false,
      resendOnRefresh: true, templateScope: 'local', className: '',
      x: 930, y: 40 + 50 * p.order, wires: [[model]],
    });
  }
  nodes.push({
    id: nodeId('page-style'), type: 'ui-template', z: tab, group: '', page, ui: '', name: 'page layout',
    order: 0, width: 0, height: 0, head: '', format: source('templates/page.css'), storeOutMessages: true,
    passthru: false, resendOnRefresh: true, templateScope: 'page:style', className: '', x: 930, y: 360, wires: [[]],
  });
  return nodes;
}

/** The flow as it is written to disk. */
export function dashboardFlowJson(): string {
  return JSON.stringify(buildDashboardFlow(), null, 2) + '\n';
}
