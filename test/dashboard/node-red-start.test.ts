import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { startDashboard } from '../../src/dashboard/node-red.js';
import { UserError } from '../../src/errors.js';
import { memoryLogger } from '../../src/log.js';

describe('starting the dashboard', () => {
  let taken: Server;
  after(() => { taken?.close(); });

  it('refuses a port something else already listens on, in one sentence, before starting Node-RED', async () => {
    taken = createServer();
    const port = await new Promise<number>((r) => taken.listen(0, '127.0.0.1', () => r((taken.address() as { port: number }).port)));
    await assert.rejects(
      startDashboard({ port, host: '127.0.0.1', mqttHost: '127.0.0.1', mqttPort: 1883, unitId: 'x', baseTopic: 'picomp', log: memoryLogger() }),
      (e: Error) => e instanceof UserError && e.message.startsWith(`port ${port} is already in use (another dashboard or Node-RED?); pick a free one with --dashboard-port `),
    );
  });
});
