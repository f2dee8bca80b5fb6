/**
 * Feeds koppelingen into the hub's COA API the way COA's nightly TVS export would, cut into
 * parts sent one after another at a steady pace so events keep flowing while a fault happens.
 * A part that fails (5xx, 429, no answer) is resent unchanged, as COA's client would: same
 * rows, so the same event ids, and the hub (Nats-Msg-Id) stores each once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoaKoppeling } from '@ketenhub/contracts/generated/coa';
import { toTvsCsv } from '@ketenhub/simulator-coa';
import type { SentEvent } from './measure.ts';

export interface FeedOptions {
  /** Base URL of the COA service, e.g. http://127.0.0.1:4301. */
  coaUrl: string;
  apiKey: string;
  koppelingen: CoaKoppeling[];
  /** Rows per TVS export. */
  partSize: number;
  /** Time between the starts of two parts (a slow part delays the next one). */
  intervalMs: number;
  /** Give up (and report what was accepted) after this moment. */
  deadline: number;
}

export interface FeedState {
  /** Events accepted so far. */
  sent: SentEvent[];
  /** Rows or events the hub refused (a feed bug, not a fault). */
  refused: number;
  /** Resends of a part after a failed attempt. */
  resends: number;
  /** Last failure seen, for the report. */
  lastFailure?: string;
  done: boolean;
  /** Rows or events never accepted because the deadline passed. */
  unsent: number;
}

interface TvsReport {
  accepted?: { row?: number; koppelingId?: string; eventId?: string }[];
  rejected?: unknown[];
}

/** Starts feeding; `state` fills while it runs, `finished` resolves when every part is in. */
export function startFeed(opts: FeedOptions): { state: FeedState; finished: Promise<FeedState> } {
  const state: FeedState = { sent: [], refused: 0, resends: 0, done: false, unsent: 0 };
  const gemeenteOf = new Map(opts.koppelingen.map((k) => [k.koppelingId, `gm${k.gemeenteCode}`]));

  async function sendPart(rows: CoaKoppeling[]): Promise<void> {
    const body = toTvsCsv(rows);
    for (let attempt = 1; ; attempt++) {
      if (Date.now() > opts.deadline) {
        state.unsent += rows.length;
        return;
      }
      try {
        const res = await fetch(`${opts.coaUrl}/v1/tvs-export`, {
          method: 'POST',
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            authorization: `Bearer ${opts.apiKey}`,
          },
          body,
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        if (res.ok) {
          const report = JSON.parse(text) as TvsReport;
          for (const a of report.accepted ?? []) {
            if (!a.eventId || !a.koppelingId) continue;
            state.sent.push({
              eventId: a.eventId,
              key: a.koppelingId,
              to: gemeenteOf.get(a.koppelingId) ?? 'unknown',
            });
          }
          state.refused += report.rejected?.length ?? 0;
          return;
        }
        state.lastFailure = `HTTP ${res.status} ${text.slice(0, 160)}`;
        if (res.status < 500 && res.status !== 429) {
          // A refusal of the whole export would be the feed's own bug: resending cannot help.
          state.refused += rows.length;
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
    for (let i = 0, part = 0; i < opts.koppelingen.length; i += opts.partSize, part++) {
      const wait = started + part * opts.intervalMs - Date.now();
      if (wait > 0) await sleep(wait);
      await sendPart(opts.koppelingen.slice(i, i + opts.partSize));
    }
    state.done = true;
    return state;
  })();
  return { state, finished };
}
