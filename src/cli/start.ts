/**
 * `picomp start`: the device. Audio engine (worker thread), embedded MQTT
 * broker (or an external one), the unit's MQTT client, optional knobs and
 * the optional Node-RED dashboard (a child process). Stops cleanly on
 * SIGINT/SIGTERM, saving state.
 *
 * One meter pump reads the engine at meter_rate; whatever shows levels
 * (the MQTT meters and Home Assistant levels inside the unit client, the
 * knobs' LED, …) is an Extension on it, started here and stopped in
 * reverse order: adding one is one line in `extensions`.
 */
import { PARAMS, PARAM_NAMES } from '../params/schema.js';
import { UnitState } from '../unit/unit-state.js';
import { usersFile } from '../unit/state-dir.js';
import { AudioEngine } from '../engine/audio-engine.js';
import { audioSetup } from '../engine/worker-protocol.js';
import { ENABLE_SOUND_CARDS, audioDriverInstalled } from '../io/naudiodon-loader.js';
import { describeLatency } from '../engine/device-driver.js';
import { MeterListener, MeterPump, type Extension } from '../unit/meter-pump.js';
import { LevelMatch } from '../unit/level-match.js';
import { createLogger, type Logger } from '../log.js';
import { parseCommandArgs } from './args.js';
import { collectParamFlags, paramFlagsHelp, paramOptions } from './param-flags.js';
import { resolveStartOptions, type StartOptions } from './start-options.js';
import { normaliseBooleanFlags, settingDef, settingOptions, settingsHelp } from './settings.js';
import { version } from './version.js';
import type { KnobEnvironment, RunningKnobs } from '../knobs/knob-controller.js';
import { unitTopics } from '../mqtt/topics.js';

export const startHelp = `Usage: picomp start [options] [parameters]

Runs the device: the audio engine, an embedded MQTT broker and the unit's
MQTT client (and the Node-RED dashboard with --dashboard). With no audio
device it runs the built-in demo source into null, paced in real time.

Options (also settable in --config FILE as snake_case keys, or as
PICOMP_<NAME> environment variables; flags win):
  --config FILE          JSON or YAML settings file, also PICOMP_CONFIG (with
                         params:, knobs: and led: sections too)
${settingsHelp('start')}
  -h, --help             show this help

Parameters (start-up values; they override saved state):
${paramFlagsHelp()}`;

export async function runStart(argv: string[]): Promise<number> {
  // Booleans also work as bare flags (--dashboard), so rewrite them to values first.
  const { values } = parseCommandArgs('start', normaliseBooleanFlags(argv), {
    ...paramOptions(), ...settingOptions('start'), config: { type: 'string' },
  }, false);
  if (values.help) { process.stdout.write(startHelp + '\n'); return 0; }
  const flags = collectParamFlags(values);
  const opts = await resolveStartOptions(values);
  const device = await startDevice(opts, flags, createLogger(opts.unitId));
  const fatal = await new Promise<Error | null>((resolve) => {
    const stop = (signal: string): void => {
      device.log.info(`${signal} received, stopping.`);
      void device.stop().then(() => { device.log.info('stopped; state saved.'); resolve(null); });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    void device.fatal.then((e) => device.stop().then(() => resolve(e)));
  });
  if (fatal) throw fatal;
  return 0;
}

export interface RunningDevice {
  readonly log: Logger;
  readonly state: UnitState;
  readonly engine: AudioEngine;
  /** mqtt:// URL of the broker the unit talks to. */
  readonly brokerUrl: string;
  readonly dashboardUrl: string | null;
  /** Resolves when the unit must stop on its own (its id turned out to be taken on the hub). */
  readonly fatal: Promise<Error>;
  stop(): Promise<void>;
}

/** Starts every part of the device; exported so tests can run a whole unit in-process. */
export async function startDevice(opts: StartOptions, flags: Partial<Record<string, unknown>>, log: Logger,
  /** Where the knobs find GPIO and input devices; only tests point it elsewhere. */
  knobEnv: KnobEnvironment = {}): Promise<RunningDevice> {
  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stoppers.reverse()) await stop().catch((e: Error) => log.error(`while stopping: ${e.message}`));
    stoppers.length = 0;
  };
  try {
    const state = await UnitState.load({ stateDir: opts.stateDir, config: opts.config, flags: flags as never, log });
    stoppers.push(() => state.flush());

    const engine = await AudioEngine.start({ ...audioSetup(opts), params: state.params, log });
    stoppers.push(() => engine.stop());
    state.on('change', (e) => engine.setParams(e.snapshot.params));
    const info = engine.info;
    // A fallback to demo or null on a machine where npm skipped the driver says, in the same line, how to get sound cards.
    const driverHint = info.note && !audioDriverInstalled() ? `; the audio driver is not installed: ${ENABLE_SOUND_CARDS}` : '';
    log.info(`audio ${info.input} → ${info.output} at ${info.sampleRate} Hz, ${info.blockFrames}-frame blocks, ${info.channels} channels` +
      (info.note ? ` (${info.note}${driverHint})` : '') + '.');
    if (info.latency) log.info(`${describeLatency(info.latency, info.blockFrames, info.sampleRate)}.`);

    let brokerUrl: string;
    let credentials: { username?: string; password?: string } = {};
    let usersRequired: (() => Promise<boolean>) | null = null;
    if (opts.brokerUrl) {
      brokerUrl = opts.brokerUrl;
      if (opts.brokerUsername) credentials = { username: opts.brokerUsername, password: opts.brokerPassword ?? '' };
    } else {
      const { startBroker } = await import('../mqtt/broker.js');
      const broker = await startBroker({
        mqttPort: opts.mqttPort, wsPort: opts.wsPort, host: opts.listenHost,
        usersFile: usersFile(opts.stateDir), allowAnonymous: opts.allowAnonymous,
        ...(opts.tls ? { tls: opts.tls } : {}), baseTopic: opts.baseTopic, unitId: opts.unitId,
        ...(opts.dashboardUsername ? { dashboardUser: opts.dashboardUsername } : {}), log,
      });
      stoppers.push(() => broker.close());
      brokerUrl = broker.url;
      credentials = broker.serviceAccount;
      usersRequired = broker.usersRequired;
    }

    let knobs: RunningKnobs | null = null;
    if (opts.knobs) {
      const { openKnobs } = await import('../knobs/knob-controller.js');
      knobs = await openKnobs(opts.knobs, state, log, knobEnv);
      stoppers.push(() => knobs!.stop());
    }

    const pump = new MeterPump({ rateHz: opts.meterRateHz, read: () => engine.readMeters(), log });
    pump.start();
    stoppers.push(async () => pump.stop());

    let onFatal: (e: Error) => void = () => undefined;
    const fatal = new Promise<Error>((resolve) => { onFatal = resolve; });
    const { startUnitClient } = await import('../mqtt/unit-client.js');
    const client = await startUnitClient({
      url: brokerUrl, ...credentials, baseTopic: opts.baseTopic, unitId: opts.unitId, groups: opts.groups, state,
      info: () => ({
        version, unit: opts.unitId, sample_rate: engine.info.sampleRate, block_size: engine.info.blockFrames,
        channels: engine.info.channels, devices: { input: engine.info.input, output: engine.info.output },
        latency_ms: engine.info.deviceLatencyMs,
      }),
      meters: pump, haDiscovery: opts.haDiscovery, log, onFatal,
      ...(opts.brokerUrl ? { fallbackUrls: opts.brokerFallbackUrls } : {}),
    });
    stoppers.push(() => client.stop());

    const extensions: Extension[] = [new LevelMatch(pump, state)];
    if (knobs) extensions.push(new MeterListener(pump, (frame) => knobs!.updateMeters(frame)));
    for (const e of extensions) {
      e.start();
      stoppers.push(async () => e.stop());
    }

    let dashboardUrl: string | null = null;
    if (opts.dashboard && !opts.dashboardUsername && usersRequired && await usersRequired()) {
      // Anyone who can open the page acts with the dashboard's MQTT rights,
      // so it never gets the unit's own admin account.
      log.warn(`the dashboard is not started: the broker requires users, so give the dashboard its own (e.g. picomp user add dashboard --role operator --unit ${opts.unitId}) and set dashboard_username and PICOMP_DASHBOARD_PASSWORD.`);
    } else if (opts.dashboard) {
      const { startDashboard } = await import('../dashboard/node-red.js');
      const url = new URL(brokerUrl);
      const dash = await startDashboard({
        port: opts.dashboardPort, mqttHost: url.hostname === '0.0.0.0' ? '127.0.0.1' : url.hostname,
        mqttPort: Number(url.port || settingDef('mqtt-port').default), unitId: opts.unitId, baseTopic: opts.baseTopic, host: opts.listenHost,
        ...(opts.dashboardUsername ? { username: opts.dashboardUsername, password: opts.dashboardPassword ?? '' } : {}),
        log,
      });
      let stoppingDashboard = false;
      stoppers.push(() => { stoppingDashboard = true; return dash.stop(); });
      void dash.exited.then(() => {
        if (!stoppingDashboard) log.warn('the dashboard (Node-RED) exited; the unit keeps running without it (the lines before say why).');
      });
      dashboardUrl = dash.url;
      log.info(`dashboard at ${dash.url}`);
      if (opts.haDiscovery) {
        const { lanUrl } = await import('../mqtt/ha-discovery.js');
        await client.linkDashboard(lanUrl(dash.url, opts.listenHost)).catch((e: Error) => log.warn(`could not link the dashboard in Home Assistant: ${e.message}`));
      }
    }
    log.info(`unit "${opts.unitId}" running picomp ${version}; ${PARAMS.length} parameters (${PARAM_NAMES.slice(0, 3).join(', ')}, …) on ${unitTopics(opts.baseTopic, opts.unitId).set}.`);
    return { log, state, engine, brokerUrl, dashboardUrl, fatal, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
