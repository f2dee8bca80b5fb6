/**
 * Prometheus metrics of one service, on its own registry so tests and several services in one
 * process (the demo) do not collide on the global one.
 *
 * Labels never carry personal data, nor anything derived from a message's content: only names
 * from configuration (flow, partner, endpoint such as a CBS code), route patterns (never the
 * URL, which may hold a BSN) and fixed vocabularies. That also keeps their cardinality bounded.
 */

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Outcome of one message in a flow. */
export type MessageOutcome =
  'delivered' | 'retried' | 'dead_lettered' | 'duplicate' | 'rejected' | 'skipped';

/** Outcome of one partner call, as the partner client counts it. */
export type PartnerCallOutcome =
  'success' | 'rejected' | 'unavailable' | 'timeout' | 'short_circuit';

/** Values of `breakerState`. */
export const BREAKER_STATE = { closed: 0, 'half-open': 1, open: 2 } as const;

export interface Metrics {
  registry: Registry;
  /** Messages handled per flow and partner; outcome is a {@link MessageOutcome}. */
  messages: Counter<'flow' | 'partner' | 'outcome'>;
  /** Seconds from a message entering the hub to its delivery at the partner. */
  deliveryDuration: Histogram<'flow' | 'partner'>;
  /** 0 closed, 1 half-open, 2 open (see {@link BREAKER_STATE}). */
  breakerState: Gauge<'partner' | 'endpoint'>;
  /** Calls to partners; outcome is a {@link PartnerCallOutcome}. */
  partnerCalls: Counter<'partner' | 'endpoint' | 'outcome'>;
  /** Requests at the HTTP edge by route pattern and status code. */
  httpRequests: Counter<'route' | 'status'>;
  /**
   * Failed authentications and authorisations; reason 'missing' | 'invalid' |
   * 'invalid-certificate' | 'certificate-required' | 'forbidden' (http-edge.ts).
   */
  authFailures: Counter<'partner' | 'reason'>;
  /** Messages dead-lettered because every retry failed: each one also raises an alert. */
  retriesExhausted: Counter<'flow' | 'partner'>;
  /** Per durable consumer: 0 pulling, 1 probing one at a time (half-open), 2 holding (open). */
  consumerState: Gauge<'consumer'>;
}

/** Values of `consumerState`. */
export const CONSUMER_STATE = { pass: 0, probe: 1, hold: 2 } as const;

export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // Default process metrics keep their standard names so stock dashboards work.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  return {
    registry,
    messages: new Counter({
      name: 'ketenhub_messages_total',
      help: 'Messages handled, by flow, partner and outcome',
      labelNames: ['flow', 'partner', 'outcome'] as const,
      registers,
    }),
    deliveryDuration: new Histogram({
      name: 'ketenhub_delivery_duration_seconds',
      help: 'Time from a message entering the hub to its delivery at the partner',
      labelNames: ['flow', 'partner'] as const,
      // Deliveries that wait for a partner to come back take minutes to hours.
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400],
      registers,
    }),
    breakerState: new Gauge({
      name: 'ketenhub_breaker_state',
      help: 'Circuit breaker state per partner endpoint: 0 closed, 1 half-open, 2 open',
      labelNames: ['partner', 'endpoint'] as const,
      registers,
    }),
    partnerCalls: new Counter({
      name: 'ketenhub_partner_calls_total',
      help: 'Calls to partner APIs, by partner, endpoint and outcome',
      labelNames: ['partner', 'endpoint', 'outcome'] as const,
      registers,
    }),
    httpRequests: new Counter({
      name: 'ketenhub_http_requests_total',
      help: 'Requests at the partner-facing HTTP edge, by route pattern and status',
      labelNames: ['route', 'status'] as const,
      registers,
    }),
    authFailures: new Counter({
      name: 'ketenhub_auth_failures_total',
      help: 'Rejected credentials at the HTTP edge, by partner (unknown when unauthenticated) and reason',
      labelNames: ['partner', 'reason'] as const,
      registers,
    }),
    retriesExhausted: new Counter({
      name: 'ketenhub_retries_exhausted_total',
      help: 'Messages dead-lettered after their last retry, by flow and partner',
      labelNames: ['flow', 'partner'] as const,
      registers,
    }),
    consumerState: new Gauge({
      name: 'ketenhub_consumer_state',
      help: 'Durable consumer state: 0 pulling, 1 probing (breaker half-open), 2 holding (breaker open)',
      labelNames: ['consumer'] as const,
      registers,
    }),
  };
}
