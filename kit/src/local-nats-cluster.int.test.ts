import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from './nats.ts';
import { isNatsReachable } from './local-nats.ts';
import { startLocalNatsCluster, type LocalNatsCluster } from './local-nats-cluster.ts';

let cluster: LocalNatsCluster;
let nc: NatsConnection;

beforeAll(async () => {
  cluster = await startLocalNatsCluster();
  // connectNats takes the comma-joined URL the way NATS_URL gives it to the services.
  nc = await connectNats(cluster.url, 'cluster-test');
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await cluster?.stop();
});

/** A publish during a leader election fails for a few seconds; a client retries it. */
async function publishWithRetry(subject: string, body: string, msgID: string): Promise<void> {
  const js = jetstream(nc, { timeout: 2_000 });
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      await js.publish(subject, body, { msgID });
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** JetStream API calls may time out while a new leader is elected; retry them for a while. */
async function retrying<T>(fn: () => Promise<T>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

describe('startLocalNatsCluster', () => {
  it('starts 3 nodes on loopback, each reachable, sharing one meta group', async () => {
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.url).toBe(cluster.urls.join(','));
    expect(new Set(cluster.nodes.map((n) => n.name))).toEqual(new Set(['n1', 'n2', 'n3']));
    for (const node of cluster.nodes) {
      expect(node.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      expect(await isNatsReachable(node.url)).toBe(true);
      const jsz = (await (await fetch(`http://127.0.0.1:${node.monitorPort}/jsz`)).json()) as {
        meta_cluster?: { cluster_size?: number };
      };
      expect(jsz.meta_cluster?.cluster_size).toBe(3);
    }
  });

  it('keeps publishing and consuming on an R3 stream when its leader is killed', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 });
    await jsm.consumers.add('R3', { durable_name: 'reader', ack_policy: AckPolicy.Explicit });

    for (let i = 0; i < 50; i++) await publishWithRetry('r3.a', `m${i}`, `id-${i}`);
    const before = await jsm.streams.info('R3');
    expect(before.cluster?.replicas).toHaveLength(2);
    const leader = cluster.nodes.find((n) => n.name === before.cluster?.leader);
    expect(leader).toBeDefined();

    leader!.kill('SIGKILL');
    expect(leader!.running).toBe(false);

    for (let i = 50; i < 100; i++) await publishWithRetry('r3.a', `m${i}`, `id-${i}`);

    const consumer = await retrying(() => jetstream(nc).consumers.get('R3', 'reader'));
    const seen = new Set<string>();
    const until = Date.now() + 30_000;
    while (seen.size < 100 && Date.now() < until) {
      try {
        const batch = await consumer.fetch({ max_messages: 100, expires: 2_000 });
        for await (const m of batch) {
          seen.add(m.string());
          m.ack();
        }
      } catch {
        // the consumer's leader may still be moving
      }
    }
    expect(seen.size).toBe(100);

    const after = await retrying(() => jsm.streams.info('R3'));
    expect(after.cluster?.leader).not.toBe(leader!.name);
    expect(after.state.messages).toBe(100);

    // Back on the same port and store, the node catches up with what it missed.
    const oldPid = leader!.pid;
    await leader!.restart();
    expect(leader!.running).toBe(true);
    expect(leader!.pid).not.toBe(oldPid);
    const caughtUp = Date.now() + 60_000;
    for (;;) {
      const info = await retrying(() => jsm.streams.info('R3'));
      const peers = info.cluster?.replicas ?? [];
      if (peers.length === 2 && peers.every((p) => p.current && !p.offline)) break;
      if (Date.now() > caughtUp) throw new Error(`replicas not current: ${JSON.stringify(peers)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  it('stop() ends every node and removes the stores', async () => {
    const small = await startLocalNatsCluster();
    const stores = small.nodes.map((n) => n.storeDir);
    await small.stop();
    for (const node of small.nodes) expect(await isNatsReachable(node.url)).toBe(false);
    for (const dir of stores) expect(existsSync(dir)).toBe(false);
    await small.stop();
  });
});
