import {
  IDENTITIES,
  PARTNER_HEADER,
  PERSONS,
  RECEIPTS,
  credentialFromConfig,
  endpointOf,
  flowName,
  servedGemeenten,
  type ConsumerDecl,
  type ConsumerSpec,
  type PartnerModule,
} from '@ketenhub/kit';
import { createIdentityHandler } from '@ketenhub/kit/privacy';
import {
  KREDIETBANK_PARTNER,
  createAanvraagHandler,
  createBeeindigingHandler,
  createHuurcontractHandler,
  createPipHandler,
} from './handlers.ts';
import { createKredietbankClient } from './kredietbank-client.ts';
import { TRAJECT_BUCKET, openTrajectStore } from './trajecten.ts';
import { registerWebhookRoutes } from './webhooks.ts';

/** One consumer per event type: nats-server 2.9 allows one filter subject per consumer. */
const KREDIETBANK_CONSUMERS: ConsumerDecl[] = [
  { durable: 'kredietbank-identiteiten', filter: 'keten.*.inburgeraar.>' },
  { durable: 'kredietbank-aanvragen', filter: 'keten.*.ontzorgen.aangevraagd' },
  { durable: 'kredietbank-beeindigingen', filter: 'keten.*.ontzorgen.beeindiging-aangevraagd' },
  { durable: 'kredietbank-pips', filter: 'keten.*.pip.vastgesteld' },
  { durable: 'kredietbank-huurcontracten', filter: 'keten.*.huurcontract.getekend' },
];

/** A traject runs 6 months, extensions through the PIP; webhooks may come a while after. */
const TRAJECT_TTL_DAYS = 2 * 366;

/**
 * The Kredietbank (financieel ontzorgen): ontzorgen.aangevraagd from the KVS → register or
 * change the traject; ontzorgen.beeindiging-aangevraagd → end it early; a pip.vastgesteld with
 * ontzorgen → move its end; a signed lease of a client in a traject → its new address and rent
 * (all four held while the Kredietbank's breaker is open); the
 * Kredietbank's webhooks → ontzorgen.* chain events to the gemeente's KVS.
 */
export function kredietbankModule(): PartnerModule {
  return {
    id: KREDIETBANK_PARTNER,
    kind: 'both',
    service: 'kredietbank',
    description: 'ontzorgen trajecten to the Kredietbank; its webhooks in',
    simulator: { main: 'simulators/kredietbank/src/main.ts' },
    stores: [IDENTITIES, PERSONS, RECEIPTS, { bucket: TRAJECT_BUCKET, access: 'write' }],
    consumers: () => KREDIETBANK_CONSUMERS,
    edge: { credentials: (config) => [credentialFromConfig(config, KREDIETBANK_PARTNER)] },
    defaults: { ackWaitMs: 60_000 },
    check: (config) => void endpointOf(config, KREDIETBANK_PARTNER),
    async start(rt) {
      const endpoint = endpointOf(rt.config, KREDIETBANK_PARTNER);
      const identities = await rt.identities();
      const trajecten = await openTrajectStore(rt.nc, {
        ttlDays: TRAJECT_TTL_DAYS,
        replicas: rt.replicas,
      });
      const publisher = await rt.edgePublisher();
      const kredietbank = createKredietbankClient({
        baseUrl: endpoint.url,
        ...(endpoint.token ? { token: endpoint.token } : {}),
        ...(endpoint.timeoutMs ? { timeoutMs: endpoint.timeoutMs } : {}),
        ...(rt.settings.breaker ? { breaker: rt.settings.breaker } : {}),
        logger: rt.logger,
        metrics: rt.metrics,
      });
      const outbound = {
        kredietbank,
        trajecten,
        projector: rt.projector,
        processingLog: rt.processingLog,
        logger: rt.logger,
      };
      const gate = kredietbank.client.gate;
      const runs: Record<string, Omit<ConsumerSpec, 'durable' | 'filter'>> = {
        // The same identity feed as DUO's (koppeling, vestiging → BSN), so this module does not
        // depend on the DUO module running.
        'kredietbank-identiteiten': {
          handler: createIdentityHandler(identities, rt.pseudonymizer),
          bindsPersons: true,
          flow: (m) => flowName(m.headers?.get(PARTNER_HEADER), KREDIETBANK_PARTNER),
        },
        'kredietbank-aanvragen': {
          handler: createAanvraagHandler({ ...outbound, identities }),
          flow: 'kvs>kredietbank',
          gate,
        },
        'kredietbank-beeindigingen': {
          handler: createBeeindigingHandler(outbound),
          flow: 'kvs>kredietbank',
          gate,
        },
        // Every PIP passes here; only one that contains ontzorgen reaches the Kredietbank.
        'kredietbank-pips': { handler: createPipHandler(outbound), flow: 'kvs>kredietbank', gate },
        // Every signed lease passes here; only one of a client in a traject reaches the bank.
        'kredietbank-huurcontracten': {
          handler: createHuurcontractHandler(outbound),
          flow: 'woningcorporatie>kredietbank',
          gate,
        },
      };
      return {
        routes: (edge) =>
          registerWebhookRoutes(edge, {
            gemeenten: servedGemeenten(rt.config),
            trajecten,
            publish: publisher.accept,
            source: rt.source,
            logger: rt.logger,
          }),
        // Each waits in the stream while the Kredietbank's breaker is open.
        consumers: KREDIETBANK_CONSUMERS.map((c) => ({ ...c, ...runs[c.durable]! })),
        persons: identities.persons,
        stop: () => kredietbank.shutdown(),
      };
    },
  };
}
