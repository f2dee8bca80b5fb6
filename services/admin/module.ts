import { jetstreamManager } from '@nats-io/jetstream';
import { policies } from '@ketenhub/contracts';
import {
  ConfigError,
  UREN_LEDGER_READ,
  openUrenLedger,
  servedGemeenten,
  toCredential,
  type HubConfig,
  type Logger,
  type PartnerCredential,
  type PartnerModule,
} from '@ketenhub/kit';
import { createPseudonymizer } from '@ketenhub/kit/privacy';
import { inzageKeys } from '@ketenhub/kit/operations';
import { ADMIN_KIND, registerAdminRoutes } from './routes.ts';

/**
 * The administrators of `config.admins`, each an `admin` credential, bound to the gemeenten of
 * its `credential.gemeenten` when given. No administrator is a configuration error: the API
 * would answer 401 to everyone.
 */
export function adminCredentials(config: HubConfig, logger?: Logger): PartnerCredential[] {
  const admins = config.admins ?? [];
  if (admins.length === 0) {
    throw new ConfigError('admins: no administrator configured; the admin API needs one', {
      field: 'admins',
      rule: 'required',
    });
  }
  const served = servedGemeenten(config);
  return admins.map((admin, i) => {
    const credential = toCredential(config, admin.credential, `admins[${i}].credential`, {
      id: admin.id,
      kind: ADMIN_KIND,
    });
    // Not fatal: the processing log may still hold records of a gemeente the hub left.
    const unknown = (credential.gemeenten ?? []).filter((g) => !served.has(g));
    if (unknown.length > 0) {
      logger?.warn({ admin: admin.id, gemeenten: unknown }, 'admin bound to unserved gemeenten');
    }
    return credential;
  });
}

/** The pseudonym keys an inzage searches under: the current one, then earlier ones. */
function pseudonymKeysOf(config: HubConfig, env: NodeJS.ProcessEnv): string[] {
  const keys = inzageKeys(config.hub.pseudonymKey, env);
  for (const key of keys.slice(1)) {
    try {
      createPseudonymizer(key);
    } catch (err) {
      throw new ConfigError(`KETENHUB_PSEUDONYM_KEY_PREVIOUS: ${(err as Error).message}`, {
        field: 'KETENHUB_PSEUDONYM_KEY_PREVIOUS',
        cause: err,
      });
    }
  }
  return keys;
}

/**
 * The admin API (routes.ts) for operators and privacy officers: right of access, dead
 * letters, alerts and flow state over NATS, as the `admin` NATS user of
 * deploy/nats/permissions.conf when one is configured.
 */
export function adminModule(opts: { env?: NodeJS.ProcessEnv } = {}): PartnerModule {
  // `KETENHUB_PSEUDONYM_KEY_PREVIOUS` is read from here; default process.env.
  const env = opts.env ?? process.env;
  return {
    id: 'admin',
    kind: 'operations',
    service: 'admin',
    description: 'inzage, dead letters, alerts and flow state for operators',
    // The hours ledger, read by direct gets for the inzage (what DUO is told a person followed).
    stores: [UREN_LEDGER_READ],
    // It reads dead letters, alerts and the processing log through short-lived consumers of
    // its own, stream and consumer state for the flow overview (counts, no content), deletes a
    // dead letter once replayed and replays it onto its chain subject. NATS cannot check the
    // replay header, so this user may publish any chain event; it cannot read KETEN itself.
    natsPublish: [
      '$JS.API.STREAM.NAMES',
      '$JS.API.STREAM.LIST',
      '$JS.API.CONSUMER.INFO.*.*',
      '$JS.API.CONSUMER.NAMES.*',
      '$JS.API.CONSUMER.LIST.*',
      ...['KETEN_DLQ', 'VERWERKINGEN', 'KETEN_ALERTS'].flatMap((s) => [
        `$JS.API.CONSUMER.CREATE.${s}.>`,
        `$JS.API.CONSUMER.MSG.NEXT.${s}.*`,
        `$JS.API.CONSUMER.DELETE.${s}.*`,
        `$JS.API.STREAM.MSG.GET.${s}`,
      ]),
      '$JS.API.STREAM.MSG.DELETE.KETEN_DLQ',
      'keten.>',
    ],
    edge: { credentials: adminCredentials },
    check: (config) => void pseudonymKeysOf(config, env),
    async start(rt) {
      const pseudonymKeys = pseudonymKeysOf(rt.config, env);
      const jsm = await jetstreamManager(rt.nc);
      const uren = await openUrenLedger(rt.nc, { replicas: rt.replicas });
      const served = [...servedGemeenten(rt.config)];
      return {
        routes: (edge) =>
          registerAdminRoutes(edge, {
            js: rt.js,
            jsm,
            policySet: policies(),
            pseudonymKeys,
            uren,
            served,
            logger: rt.logger,
          }),
      };
    },
  };
}
