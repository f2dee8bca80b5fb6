import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { policies } from '@ketenhub/contracts';
import {
  ConfigError,
  connectNats,
  createHttpEdge,
  createLogger,
  createMetrics,
  createPseudonymizer,
  edgeOptionsFromConfig,
  inzageKeys,
  natsAuth,
  provisionStreams,
  servedGemeenten,
  startOpsServer,
  streamLimits,
  toCredential,
  type HubConfig,
  type Logger,
  type PartnerCredential,
} from '@ketenhub/kit';
import { ADMIN_KIND, registerAdminRoutes } from './routes.ts';

export interface AdminService {
  url: string;
  opsUrl: string;
  stop(): Promise<void>;
}

export interface AdminServiceOptions {
  logger?: Logger;
  port?: number;
  opsPort?: number;
  /** Where `KETENHUB_PSEUDONYM_KEY_PREVIOUS` is read from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

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

/**
 * The admin API (routes.ts): right of access, dead letters, alerts and flow state over
 * NATS, as the `admin` NATS user of deploy/nats/permissions.conf when one is configured.
 */
export async function startAdminService(
  config: HubConfig,
  opts: AdminServiceOptions = {},
): Promise<AdminService> {
  const service = 'admin';
  const logger = opts.logger ?? createLogger(service);
  const metrics = createMetrics(service);
  const settings = config.services.admin;
  if (!settings) {
    throw new ConfigError('services.admin: not configured', {
      field: 'services.admin',
      rule: 'required',
    });
  }
  // Credentials and keys first: a bad one stops the start before anything connects.
  const credentials = adminCredentials(config, logger);
  const pseudonymKeys = inzageKeys(config.hub.pseudonymKey, opts.env ?? process.env);
  for (const key of pseudonymKeys.slice(1)) {
    try {
      createPseudonymizer(key);
    } catch (err) {
      throw new ConfigError(`KETENHUB_PSEUDONYM_KEY_PREVIOUS: ${(err as Error).message}`, {
        field: 'KETENHUB_PSEUDONYM_KEY_PREVIOUS',
        cause: err,
      });
    }
  }
  const edgeOptions = edgeOptionsFromConfig(config, 'admin');

  const nc = await connectNats(config.nats.url, service, natsAuth(config));
  try {
    await provisionStreams(nc, streamLimits(config));
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);

    const edge = createHttpEdge({
      service,
      logger,
      metrics,
      credentials,
      ...edgeOptions,
    });
    registerAdminRoutes(edge, { js, jsm, policySet: policies(), pseudonymKeys, logger });
    const host = settings.host ?? '127.0.0.1';
    const url = await edge.listen({ host, port: opts.port ?? settings.port });
    const ops = await startOpsServer({
      service,
      host,
      port: opts.opsPort ?? settings.opsPort ?? 0,
      registry: metrics.registry,
      checks: { nats: () => !nc.isClosed() },
      logger,
    });
    logger.info({ url, ops: ops.url, admins: credentials.length }, 'admin API listening');

    return {
      url,
      opsUrl: ops.url,
      async stop() {
        await edge.close();
        await ops.close();
        await nc.drain();
      },
    };
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw err;
  }
}
