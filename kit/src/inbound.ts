/**
 * The inbound recipe of every partner API, once: who calls, what they may send, the body's
 * contract, the translation, the chain contract, the tenant, the trace and the publish, in that
 * order, so no route can skip a step or take them in another order.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { schemas, type Violation } from '@ketenhub/contracts';
import { ForbiddenError, ValidationError } from './errors.ts';
import { assertOneGemeente, type Event } from './events.ts';
import { requireGemeente, requireKind, type Principal } from './http-edge.ts';
import type { Logger } from './log.ts';
import { mayProduce } from './policy.ts';
import type { AcceptOptions } from './publisher.ts';
import { traceparentFor } from './trace.ts';

export interface InboundRoute<B> {
  /** POST path, e.g. `/v1/koppelingen`. */
  url: string;
  /** The credential kind that may call it (others: 403). */
  kind: string;
  /** What the body is called in error messages (`not a valid <what>`). */
  what: string;
  /**
   * Event types the route can produce, checked against the caller's policy before the body is
   * read; types known only after translation are checked then, always.
   */
  produces?: string[];
  /**
   * The body's contract: a schema id of the contracts, or a function giving its violations (it
   * may throw a 4xx of its own for what comes before the body, such as headers).
   */
  schema: string | ((body: unknown, request: FastifyRequest) => Violation[]);
  /** Rules a schema cannot express (elfproef, IBAN check digits, headers); run after it. */
  check?(body: B, request: FastifyRequest): Violation[] | Promise<Violation[]>;
  /**
   * True when this message was handled before and must not be published again (a partner's own
   * message id); the route answers as for the first time.
   */
  handled?(body: B, request: FastifyRequest): Promise<boolean>;
  /** The chain event; throws a 4xx for what only a lookup can refuse (an unknown traject). */
  translate(
    body: B,
    ctx: { principal: Principal; request: FastifyRequest },
  ): Promise<Event<unknown>> | Event<unknown>;
  /** The field a 403 for another gemeente names; default `gemeente`. */
  gemeenteField?: string;
  /** A trace parent the body carries (a CloudEvent's `traceparent`), after the header's. */
  traceparentOf?(body: B): unknown;
  /** How the publisher recognises the same message again (id field, content digest). */
  accept?(event: Event<unknown>, body: B): AcceptOptions;
  /** After the publish (remember a message id). */
  after?(event: Event<unknown>, body: B): Promise<void>;
  /** The answer: default 202 `{ eventId, type }`. */
  answer?: { status: number; body?(event: Event<unknown>): unknown };
}

export interface InboundDeps {
  /** Publishes (normally `Publisher.accept`) and resolves once the stream has stored it. */
  publish(event: Event<unknown>, traceparent: string, opts?: AcceptOptions): Promise<void>;
  logger: Logger;
}

function mayProduceOrRefuse(principal: Principal, type: string): void {
  if (!mayProduce(principal.kind, type)) {
    throw new ForbiddenError(`credential ${principal.id} may not deliver ${type}`, {
      field: 'type',
      rule: 'policy levert',
    });
  }
}

/** The body's violations of its contract: schema first, other rules only on a valid body. */
async function violationsOf<B>(
  route: InboundRoute<B>,
  body: unknown,
  request: FastifyRequest,
): Promise<Violation[]> {
  const violations =
    typeof route.schema === 'string'
      ? schemas().validate(route.schema, body)
      : route.schema(body, request);
  if (violations.length > 0 || !route.check) return violations;
  return route.check(body as B, request);
}

/**
 * Registers one partner route with the inbound recipe:
 * 1. the caller's credential kind (401/403 by the edge, 403 for another kind);
 * 2. the types the route produces, against the caller's policy (403 `policy levert`);
 * 3. the body's contract, then the rules no schema holds (400 naming field and rule);
 * 4. a message handled before is answered again, not published again;
 * 5. translation to the chain event;
 * 6. its type against the policy again, and the chain contract: schema, one gemeente (400);
 * 7. the tenant: the credential's gemeenten (403 `credential-scope`);
 * 8. `traceparent`: a child of the caller's, or a new trace;
 * 9. publish, once per id for the partner (scoped `Nats-Msg-Id`, receipts), awaited;
 * 10. 202 `{ eventId, type }`.
 */
export function inboundRoute<B>(
  app: FastifyInstance,
  route: InboundRoute<B>,
  deps: InboundDeps,
): void {
  app.post(route.url, async (request, reply) => {
    const principal = requireKind(request, route.kind);
    for (const type of route.produces ?? []) mayProduceOrRefuse(principal, type);
    const violations = await violationsOf(route, request.body, request);
    if (violations.length > 0) throw new ValidationError(`not a valid ${route.what}`, violations);
    const body = request.body as B;
    const answer = route.answer ?? {
      status: 202,
      body: (e: Event<unknown>) => ({ eventId: e.id, type: e.type }),
    };
    if (route.handled && (await route.handled(body, request))) {
      deps.logger.info({ route: route.url, partner: principal.id }, 'repeated message accepted');
      return reply.code(answer.status).send();
    }
    const event = await route.translate(body, { principal, request });
    mayProduceOrRefuse(principal, event.type);
    const chain = schemas().validateEvent(event);
    if (chain.length > 0) {
      throw new ValidationError(`${route.what} does not fit the chain contract`, chain);
    }
    assertOneGemeente(event);
    requireGemeente(request, event.gemeente, route.gemeenteField);
    const traceparent = traceparentFor(request.headers, route.traceparentOf?.(body));
    await deps.publish(event, traceparent, route.accept?.(event, body));
    await route.after?.(event, body);
    deps.logger.info(
      { eventId: event.id, type: event.type, gemeente: event.gemeente, partner: principal.id },
      `${route.what} accepted`,
    );
    return reply.code(answer.status).send(answer.body?.(event));
  });
}
