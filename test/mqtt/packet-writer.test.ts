/**
 * The unit's broker and client write packets without mqtt-packet's table of
 * every two-byte number (65 536 Buffers, 6 MB of heap). Checked in a fresh
 * process: mocha's own clients may have built the table in this one.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const at = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

describe('MQTT packet writing', function () {
  it('a unit with its embedded broker exchanges packets without building the number table', async function () {
    const script = `
      import { createRequire } from 'node:module';
      import { startBroker } from ${JSON.stringify(at('../../src/mqtt/broker.js'))};
      import { startUnitClient } from ${JSON.stringify(at('../../src/mqtt/unit-client.js'))};
      import { UnitState } from ${JSON.stringify(at('../../src/unit/unit-state.js'))};
      import { MeterPump } from ${JSON.stringify(at('../../src/unit/meter-pump.js'))};
      import { memoryLogger } from ${JSON.stringify(at('../../src/log.js'))};
      const numbers = createRequire(${JSON.stringify(at('../../src/mqtt/broker.js'))})('mqtt-packet/numbers.js');
      const log = memoryLogger();
      const b = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', allowAnonymous: true, log });
      const state = await UnitState.load({ stateDir: null, log });
      const u = await startUnitClient({ url: b.url, baseTopic: 'picomp', unitId: 'table', state, log, haDiscovery: false,
        info: () => ({}), meters: new MeterPump({ rateHz: 20, read: () => null, log }) });
      await new Promise((r) => setTimeout(r, 300));
      await u.stop(); await b.close();
      console.log(JSON.stringify({ entries: Object.keys(numbers.cache).length }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 });
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()!), { entries: 0 });
  });
});
