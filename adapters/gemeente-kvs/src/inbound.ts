import type { FastifyInstance } from 'fastify';
import { schemas } from '@ketenhub/contracts';
import { inboundRoute, type Event, type InboundDeps } from '@ketenhub/kit';
import { bsnViolations, moneyViolations } from '@ketenhub/kit/privacy';
import { KVS_PARTNER } from './deliver.ts';

type KvsEvent = Event<{ gemeenteCode?: string }> & { traceparent?: unknown };

/**
 * The KVS's inbound API: a gemeente's klantvolgsysteem sends chain events to the hub (vestiging,
 * PIP, MAP/PVT, hours) as CloudEvents in structured mode. The credential is bound to one
 * gemeente: it can send only that gemeente's events (403 otherwise) and only the types the
 * gemeente-kvs policy says a KVS delivers. 202 means the event is stored in JetStream.
 */
export function registerKvsInboundRoutes(app: FastifyInstance, deps: InboundDeps): void {
  inboundRoute<KvsEvent>(
    app,
    {
      url: '/v1/events',
      kind: KVS_PARTNER,
      what: 'chain event',
      // The body is the chain event itself.
      schema: (body) => schemas().validateEvent(body),
      check: (event) => [
        // A schema can check an IBAN's shape, not its check digits: a one-digit typo would send
        // a payment to someone else's account (financieel ontzorgen).
        ...moneyViolations(event.data, 'data'),
        // Nor can it run the elfproef: a mistyped BSN (in any field `bsn`, of any event type a
        // KVS may send) would tie the person to someone else's records at DUO and the
        // Kredietbank.
        ...bsnViolations(event.data, 'data'),
        ...(event.gemeente
          ? []
          : [
              {
                field: 'gemeente',
                rule: 'required',
                message: 'the CloudEvents extension gemeente is required',
              },
            ]),
      ],
      // The event goes on as sent, without its trace extension (the header carries the trace).
      translate: ({ traceparent: _ignored, ...event }) => event,
      traceparentOf: (event) => event.traceparent,
    },
    deps,
  );
}
