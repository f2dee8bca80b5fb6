/**
 * Feeds chain events into the hub's KVS inbound API (`POST /v1/events`) the way a gemeente's
 * KVS sends them: one event per request, each with its own gemeente's key, at a steady pace so
 * events keep flowing while a fault happens. An event that fails (5xx, 429, no answer) is resent
 * unchanged, as a KVS would: same event id, which the hub (Nats-Msg-Id) stores once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FeedState } from './feed.ts';
import type { SentEvent } from './measure.ts';

/** One event to send, and what it is at the partner once the hub accepted it. */
export interface KvsFeedItem {
  /** The gemeente whose KVS sends it (its key is used). */
  gemeente: string;
  event: { id: string };
  sent: SentEvent;
}

export interface KvsFeedOptions {
  /** Base URL of the KVS inbound API, e.g. http://127.0.0.1:4303. */
  url: string;
  /** Each gemeente's KVS key. */
  keys: Record<string, string>;
  items: KvsFeedItem[];
  /** Time between the starts of two events; 0 sends as fast as `concurrency` allows. */
  intervalMs: number;
  /** Requests in flight at most (a slow hub delays the next events). */
  concurrency: number;
  /** Give up (and report what was accepted) after this moment. */
  deadline: number;
}

/** Starts feeding; `state` fills while it runs, `finished` resolves when every event is in. */
export function startKvsFeed(opts: KvsFeedOptions): {
  state: FeedState;
  finished: Promise<FeedState>;
} {
  const state: FeedState = { sent: [], refused: 0, resends: 0, done: false, unsent: 0 };

  async function send(item: KvsFeedItem): Promise<void> {
    const body = JSON.stringify(item.event);
    for (let attempt = 1; ; attempt++) {
      if (Date.now() > opts.deadline) {
        state.unsent++;
        return;
      }
      try {
        const res = await fetch(`${opts.url}/v1/events`, {
          method: 'POST',
          headers: {
            'content-type': 'application/cloudevents+json',
            authorization: `Bearer ${opts.keys[item.gemeente]}`,
          },
          body,
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        if (res.status === 202) {
          state.sent.push(item.sent);
          return;
        }
        state.lastFailure = `HTTP ${res.status} ${text.slice(0, 160)}`;
        if (res.status < 500 && res.status !== 429) {
          // A refused event is the feed's own bug: resending cannot help.
          state.refused++;
          return;
        }
      } catch (err) {
        state.lastFailure = (err as Error).message;
      }
      state.resends++;
      await sleep(Math.min(2_000, 200 * 2 ** Math.min(attempt - 1, 4)));
    }
  }

  const finished = (async () => {
    const started = Date.now();
    const inFlight = new Set<Promise<void>>();
    for (const [i, item] of opts.items.entries()) {
      const wait = started + i * opts.intervalMs - Date.now();
      if (wait > 0) await sleep(wait);
      while (inFlight.size >= opts.concurrency) await Promise.race(inFlight);
      const p: Promise<void> = send(item).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    state.done = true;
    return state;
  })();
  return { state, finished };
}
