import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, jetstream } from '@nats-io/jetstream';
import { isNatsReachable, startLocalNats } from './local-nats.ts';

describe('startLocalNats', () => {
  it('starts a JetStream server, and stop() closes the port and removes the temp store', async () => {
    const nats = await startLocalNats();
    try {
      expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
      expect(nats.pid).toBeGreaterThan(0);
      expect(existsSync(nats.storeDir)).toBe(true);

      const nc = await connect({ servers: nats.url });
      try {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.add({ name: 'T', subjects: ['t.>'] });
        const js = jetstream(nc);
        const ack = await js.publish('t.hello', 'world');
        expect(ack.stream).toBe('T');
        expect(ack.seq).toBe(1);
        const info = await jsm.streams.info('T');
        expect(info.state.messages).toBe(1);
      } finally {
        await nc.close();
      }
    } finally {
      await nats.stop();
    }

    expect(await isNatsReachable(nats.url)).toBe(false);
    expect(existsSync(nats.storeDir)).toBe(false);
    // A second stop() is harmless.
    await nats.stop();
  });

  it('keeps a store dir that the caller gave', async () => {
    const storeDir = await mkdtemp(path.join(os.tmpdir(), 'ketenhub-nats-given-'));
    try {
      const nats = await startLocalNats({ storeDir });
      expect(nats.storeDir).toBe(storeDir);
      await nats.stop();
      expect(existsSync(storeDir)).toBe(true);
    } finally {
      await rm(storeDir, { recursive: true, force: true });
    }
  });

  it('fails with the server output when the port is already taken by another server', async () => {
    const first = await startLocalNats();
    try {
      await expect(startLocalNats({ port: first.port, readyTimeoutMs: 5_000 })).rejects.toThrow(
        /nats-server output/,
      );
    } finally {
      await first.stop();
    }
  });
});
