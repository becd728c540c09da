import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { fakeInputTree, type FakeInputTree } from '../helpers/input-device-fifo.js';
import { resolveStartOptions } from '../../src/cli/start-options.js';
import { startDevice, type RunningDevice } from '../../src/cli/start.js';
import { memoryLogger } from '../../src/log.js';

describe('a knob turn reaches the retained MQTT state of a running unit', () => {
  let dir: string;
  let tree: FakeInputTree;
  let device: RunningDevice | null = null;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'picomp-knob-mqtt-'));
    tree = await fakeInputTree(24);
  });
  after(async () => {
    await device?.stop();
    await tree.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('input-event records → UnitState → engine and `picomp/<unit>/state`', async () => {
    const rotary = await tree.addDevice('rotary@11');
    const config = join(dir, 'picomp.yaml');
    await writeFile(config, [
      'unit: knob-lab', 'input: demo', 'output: "null"', 'mqtt_port: 0', 'ws_port: 0', 'listen: 127.0.0.1',
      'knobs:', '  - backend: input', '    device: rotary@11', '    param: threshold', '    acceleration: false', '',
    ].join('\n'));
    const opts = await resolveStartOptions({ config, 'state-dir': join(dir, 'state') }, {});
    device = await startDevice(opts, {}, memoryLogger(), { inputSysRoot: tree.sysRoot, inputDevRoot: tree.devRoot, inputEventSize: 24 });
    await rotary.connect();

    const client = await mqtt.connectAsync(device.brokerUrl.replace('0.0.0.0', '127.0.0.1'));
    const states: Record<string, unknown>[] = [];
    client.on('message', (_t, p) => states.push(JSON.parse(p.toString()) as Record<string, unknown>));
    await client.subscribeAsync('picomp/knob-lab/state');
    const deadline = Date.now() + 10_000;
    const waitFor = async (ok: () => boolean, what: string): Promise<void> => {
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; states: ${JSON.stringify(states.map((s) => s.threshold))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitFor(() => states.length > 0, 'the retained state');
    assert.equal(states.at(-1)!.threshold, -18);

    // Three detents down: the schema's step (0.5 dB) per detent.
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 3; i++) await rotary.turn(-1, t0 + i * 300);
    await waitFor(() => states.at(-1)!.threshold === -19.5, 'threshold -19.5 in state');
    assert.equal(device.state.params.threshold, -19.5);
    await client.endAsync();
  });
});
