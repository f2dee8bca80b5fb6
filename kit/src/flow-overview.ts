import type { JetStreamManager } from '@nats-io/jetstream';
import { STREAMS } from './nats.ts';

/**
 * What an administrator needs to see whether the chain flows: per stream how many messages it
 * holds, and per durable consumer how far behind it is. Counts and names only, never message
 * content, so it may be shown to anyone with an admin credential (the admin API, a dashboard).
 */
export interface StreamOverview {
  stream: string;
  /** Messages in the stream; for a gemeente-bound caller, of its gemeenten only. */
  messages: number;
  /** Messages per gemeente (CBS code), for the streams whose subjects carry one. */
  gemeenten?: Record<string, number>;
}

export interface ConsumerOverview {
  stream: string;
  /** Durable name, e.g. `gemeente-kvs-gm0797`. */
  name: string;
  /** The gemeente the consumer serves, when its name ends in a CBS code. */
  gemeente?: string;
  filterSubject?: string;
  /** Messages in its filter not yet delivered to it: the lag. */
  pending: number;
  /** Delivered but not yet acknowledged (in flight, or waiting for a retry). */
  ackPending: number;
  redelivered: number;
  /** Pull requests waiting: 0 while the service is down or holds (breaker open). */
  waiting: number;
}

export interface FlowOverview {
  streams: StreamOverview[];
  consumers: ConsumerOverview[];
}

/** Which subject token holds the gemeente, per stream (see STREAMS in nats.ts). */
const GEMEENTE_TOKEN: Record<string, number | undefined> = {
  [STREAMS.keten]: 1,
  [STREAMS.deadLetters]: 2,
  [STREAMS.processingLog]: 1,
};

const GEMEENTE = /^gm[0-9]{4}$/;
const SCOPED_CONSUMER = /-(gm[0-9]{4})$/;

function isNotFound(err: unknown): boolean {
  return /not found/i.test((err as Error)?.message ?? '');
}

/**
 * The hub's streams and their durable consumers. `gemeenten` limits it to what a gemeente-bound
 * caller may see: per-gemeente counts of its own gemeenten, consumers named after one of them
 * and the consumers that serve no single gemeente; a stream whose subjects carry no gemeente
 * (the alerts) is then left out. Ephemeral consumers (a listing in progress) are not shown.
 */
export async function flowOverview(
  jsm: JetStreamManager,
  opts: { gemeenten?: string[] } = {},
): Promise<FlowOverview> {
  const scope = opts.gemeenten ? new Set(opts.gemeenten) : undefined;
  const streams: StreamOverview[] = [];
  const consumers: ConsumerOverview[] = [];
  for (const stream of Object.values(STREAMS)) {
    const token = GEMEENTE_TOKEN[stream];
    if (scope && token === undefined) continue;
    // The per-subject counts come with the info when asked for; subjects hold no personal data.
    const info = await jsm.streams
      .info(stream, token === undefined ? undefined : { subjects_filter: '>' })
      .catch((err: unknown) => {
        if (isNotFound(err)) return undefined; // not provisioned on this server
        throw err;
      });
    if (!info) continue;
    const entry: StreamOverview = { stream, messages: info.state.messages };
    if (token !== undefined) {
      const perGemeente: Record<string, number> = {};
      for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
        const gemeente = subject.split('.')[token];
        if (!gemeente || !GEMEENTE.test(gemeente)) continue;
        if (scope && !scope.has(gemeente)) continue;
        perGemeente[gemeente] = (perGemeente[gemeente] ?? 0) + count;
      }
      entry.gemeenten = perGemeente;
      if (scope) entry.messages = Object.values(perGemeente).reduce((a, b) => a + b, 0);
    }
    streams.push(entry);

    for await (const ci of jsm.consumers.list(stream)) {
      if (!ci.config.durable_name) continue;
      const gemeente = SCOPED_CONSUMER.exec(ci.name)?.[1];
      if (scope && gemeente && !scope.has(gemeente)) continue;
      consumers.push({
        stream,
        name: ci.name,
        ...(gemeente ? { gemeente } : {}),
        ...(ci.config.filter_subject ? { filterSubject: ci.config.filter_subject } : {}),
        pending: ci.num_pending,
        ackPending: ci.num_ack_pending,
        redelivered: ci.num_redelivered,
        waiting: ci.num_waiting,
      });
    }
  }
  consumers.sort((a, b) => a.stream.localeCompare(b.stream) || a.name.localeCompare(b.name));
  return { streams, consumers };
}
