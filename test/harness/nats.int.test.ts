import { describe, it, expect } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { isNatsReachable } from '@ketenhub/kit/processes';
import { isContainerRuntimeReachable, startTestNats } from './index.ts';

describe('startTestNats', () => {
  it('gives a JetStream server and stop() cleans it up', async () => {
    const nats = await startTestNats();
    try {
      expect(['env', 'container', 'local']).toContain(nats.kind);
      if (!process.env['NATS_URL'] && !process.env['KETENHUB_TEST_NATS']) {
        // Without a shared server the path follows the runtime check; on a machine without
        // Docker that is the local nats-server.
        expect(nats.kind).toBe((await isContainerRuntimeReachable()) ? 'container' : 'local');
      }

      const nc = await connect({ servers: nats.url });
      try {
        const jsm = await jetstreamManager(nc);
        const name = `HARNESS_${process.pid}_${Date.now()}`;
        await jsm.streams.add({ name, subjects: [`harness.${process.pid}.>`] });
        expect((await jsm.streams.info(name)).config.name).toBe(name);
        await jsm.streams.delete(name);
      } finally {
        await nc.close();
      }
    } finally {
      await nats.stop();
    }

    if (nats.kind !== 'env') {
      expect(await isNatsReachable(nats.url)).toBe(false);
    }
  });

  it('answers the runtime check quickly', async () => {
    const started = Date.now();
    expect(typeof (await isContainerRuntimeReachable())).toBe('boolean');
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
