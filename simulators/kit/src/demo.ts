/**
 * The demo's contract with a partner whose flows start with a request the demo must make (the
 * gemeente's KVS asks a woningcorporatie for a home): its module names a driver
 * (`simulator.demo`, a path), and `npm run demo` calls it with the people of the run and a way
 * to act as each gemeente's KVS. The driver makes its requests, lets its simulator answer, and
 * reports its flows in the demo's shape; the demo fails on anything lost or doubled.
 */
import { buildEvent, nameBasedUuid, type Event } from '@ketenhub/kit';

/** One flow of the demo's report. */
export interface DemoFlow {
  flow: string;
  sent: number;
  delivered: number;
  lost: number;
  duplicates: number;
}

/** A person of the run whose koppeling reached the KVS, as the KVS knows them. */
export interface DemoPerson {
  inburgeraarId: string;
  gemeente: string;
  koppelingId: string;
  adult: boolean;
  geboortedatum: string;
  /** The household as COA's koppeling described it (members share the `huishoudenId`). */
  huishouden: { huishoudenId: string; rol: string; omvang: number; nareiziger: boolean };
}

/** One chain event as a gemeente's KVS (simulator) received it. */
export interface KvsReceived {
  id: string;
  deliveries: number;
  event: Event<Record<string, unknown>>;
}

/** What the demo hands a partner's driver. */
export interface DemoContext {
  people: DemoPerson[];
  /** The partner's simulators, by organisation (by the partner id for one simulator). */
  simulators: Record<string, string>;
  /**
   * Sends a chain event as the gemeente's KVS, through the hub's KVS inbound API with that KVS's
   * key; the event id is derived from `key` and the run, so a resend is the same event.
   */
  sendAsKvs(
    gemeente: string,
    type: string,
    key: string,
    data: Record<string, unknown>,
  ): Promise<{ id: string; status: number }>;
  /** What the gemeente's KVS simulator received, of one type. */
  receivedByKvs(gemeente: string, type: string): Promise<KvsReceived[]>;
  /** A fresh tag per run, for references that must not repeat between runs. */
  runTag: string;
  timeoutMs: number;
  say(line: string): void;
}

/** What a driver module exports as `runDemo`. */
export type DemoDriver = (ctx: DemoContext) => Promise<{ flows: DemoFlow[] }>;

/** A flow from what was sent and, per id, how often it arrived. */
export function flowOf(flow: string, sent: string[], arrived: Map<string, number>): DemoFlow {
  let delivered = 0;
  let duplicates = 0;
  for (const id of new Set(sent)) {
    const n = arrived.get(id);
    if (n !== undefined) {
      delivered++;
      duplicates += n - 1;
    }
  }
  const count = new Set(sent).size;
  return { flow, sent: count, delivered, lost: count - delivered, duplicates };
}

/** Polls `done` every 200 ms until it holds or `until` (epoch ms) passes. */
export async function waitFor(done: () => Promise<boolean>, until: number): Promise<boolean> {
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The demo's KVS side against a running chain: its inbound API and keys, and the KVS simulator.
 * `source` names the KVS as the gemeente's system.
 */
export function kvsActor(opts: {
  kvsInbound: string;
  kvsApiKeys: Record<string, string>;
  kvsSimulator: string;
  runTag: string;
}): Pick<DemoContext, 'sendAsKvs' | 'receivedByKvs'> {
  return {
    async sendAsKvs(gemeente, type, key, data) {
      const event = buildEvent({
        id: nameBasedUuid(`demo:${opts.runTag}:${type}:${key}`),
        type,
        source: `urn:nld:oin:0000000100${gemeente.slice(2)}000000:systeem:kvs-simulator`,
        gemeente,
        data,
      });
      const res = await fetch(`${opts.kvsInbound}/v1/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/cloudevents+json',
          authorization: `Bearer ${opts.kvsApiKeys[gemeente] ?? ''}`,
        },
        body: JSON.stringify(event),
      });
      await res.arrayBuffer();
      return { id: event.id, status: res.status };
    },
    async receivedByKvs(gemeente, type) {
      const res = await fetch(
        `${opts.kvsSimulator}/_sim/gemeenten/${gemeente}/events?type=${encodeURIComponent(type)}`,
      );
      if (!res.ok) throw new Error(`KVS simulator answered ${res.status}`);
      return ((await res.json()) as { events: KvsReceived[] }).events;
    },
  };
}
