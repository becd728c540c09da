/**
 * The teacher's publish against a hub that holds the acknowledgement back
 * (a clustered hub electing a leader) or hangs up instead: one sentence,
 * never a silent exit. The hub is a real Aedes whose publish hook never
 * answers, or closes the connection.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { connectHub, publishDesired } from '../../src/classroom/teacher.js';
import { isUserError } from '../../src/errors.js';

async function hub(onPublish: (client: { close(): void }) => void): Promise<{ url: string; close(): Promise<void> }> {
  const broker = await Aedes.createBroker({
    authorizePublish: (client, _packet, _callback) => { if (client) onPublish(client); },
  });
  const server: Server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise((r) => server.close(r));
    },
  };
}

describe('the teacher publishing a class setting', function () {
  it('says so in a sentence when the hub never acknowledges it', async function () {
    const h = await hub(() => undefined);
    const client = await connectHub({ servers: [h.url] });
    try {
      await assert.rejects(publishDesired(client, 'picomp/class/desired', null, 300),
        (e: Error) => isUserError(e) && /did not acknowledge the class setting within 0\.3 s/.test(e.message));
    } finally {
      client.end(true);
      await h.close();
    }
  });

  it('says so in a sentence when the hub hangs up before acknowledging', async function () {
    const h = await hub((c) => c.close());
    const client = await connectHub({ servers: [h.url] });
    try {
      await assert.rejects(publishDesired(client, 'picomp/class/desired', null, 30_000),
        (e: Error) => isUserError(e) && /closed the connection before it acknowledged/.test(e.message));
    } finally {
      client.end(true);
      await h.close();
    }
  });
});
