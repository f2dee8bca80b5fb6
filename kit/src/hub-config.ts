import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { policies, retentionDays, schemas, type Register } from '@ketenhub/contracts';
import type {
  EdgeTlsConfig,
  HubConfig,
  PartnerCredentialConfig,
} from '@ketenhub/contracts/generated';
import { parseApiKeyHash } from './api-key-hash.ts';
import { loadConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import type { EdgeTls, HttpEdgeOptions, PartnerCredential } from './http-edge.ts';
import { DEFAULT_LIMITS, type NatsAuth, type StreamLimits } from './nats.ts';

export type { HubConfig };

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_CONFIG = resolve(REPO_ROOT, 'config/ketenhub.yaml');
const SCHEMA_ID = 'https://contracts.ketenhub.nl/config/hub-config.schema.json';

/**
 * The hub's configuration: `KETENHUB_CONFIG` or config/ketenhub.yaml, validated against the
 * config contract; a bad value stops the process with its path.
 */
export function loadHubConfig(
  file: string = process.env.KETENHUB_CONFIG ?? DEFAULT_CONFIG,
  env: NodeJS.ProcessEnv = process.env,
): HubConfig {
  return loadConfig<HubConfig>(file, schemas().byId(SCHEMA_ID).schema, { env });
}

/** CBS codes of the gemeenten this hub serves. */
export function servedGemeenten(config: HubConfig): Set<string> {
  return new Set(config.gemeenten.map((g) => g.code));
}

/** Stream limits: the processing register's retention, shortened where the config says so. */
export function streamLimits(
  config: HubConfig,
  register: Register = policies().register,
): StreamLimits {
  // The register sets the ceiling: config may keep data shorter, never longer.
  const max = retentionDays(register);
  const s = config.streams ?? {};
  return {
    ketenMaxAgeDays: Math.min(s.ketenMaxAgeDays ?? max.keten, max.keten),
    deadLetterMaxAgeDays: Math.min(s.deadLetterMaxAgeDays ?? max.keten, max.keten),
    processingLogMaxAgeDays: Math.min(
      s.processingLogMaxAgeDays ?? max.processingLog,
      max.processingLog,
    ),
    replicas: s.replicas ?? DEFAULT_LIMITS.replicas,
  };
}

/** The NATS user of this process, from `nats.user`/`nats.password`; empty = none. */
export function natsAuth(config: HubConfig): NatsAuth {
  return { user: config.nats.user ?? '', password: config.nats.password ?? '' };
}

/**
 * A credential from a config block (`partners.<name>`, `gemeenten[i].kvs.inbound`,
 * `admins[i].credential`). A plaintext `apiKey` is a development aid: in production
 * (`hub.production`) it is refused, so a deployment cannot drift into keeping keys in the clear.
 */
export function toCredential(
  config: HubConfig,
  c: PartnerCredentialConfig | undefined,
  where: string,
  who: { id: string; kind: string; gemeenten?: string[] },
): PartnerCredential {
  if (!c || (!c.apiKey && !c.apiKeyHash && !c.mtls)) {
    throw new ConfigError(`${where}: no credential; set apiKeyHash (npm run hash-key), or mtls`, {
      field: where,
      rule: 'required',
    });
  }
  if (config.hub.production === true && (c.apiKey ?? '') !== '') {
    throw new ConfigError(
      `${where}.apiKey: a plaintext key is not accepted in production; set apiKeyHash (npm run hash-key)`,
      { field: `${where}.apiKey`, rule: 'production' },
    );
  }
  // A malformed or scrypt hash stops the start here, named by its config path.
  if (c.apiKeyHash) parseApiKeyHash(c.apiKeyHash, `${where}.apiKeyHash`);
  const gemeenten = who.gemeenten ?? c.gemeenten;
  return {
    id: who.id,
    kind: who.kind,
    ...(c.apiKeyHash ? { apiKeyHash: c.apiKeyHash } : {}),
    ...(c.apiKey ? { apiKey: c.apiKey } : {}),
    ...(c.mtls ? { mtls: c.mtls } : {}),
    ...(gemeenten ? { gemeenten } : {}),
  };
}

/** A partner's credential from `partners.<name>`. */
export function credentialFromConfig(
  config: HubConfig,
  partner: keyof HubConfig['partners'],
  kind: string = partner,
): PartnerCredential {
  return toCredential(config, config.partners[partner], `partners.${partner}`, {
    id: partner,
    kind,
  });
}

/**
 * Each configured KVS's credential for the inbound API, bound to its own gemeente. A block left
 * empty (its environment variables unset) means that KVS does not send events to the hub.
 */
export function kvsCredentials(config: HubConfig): PartnerCredential[] {
  const given = (c: PartnerCredentialConfig | undefined) =>
    !!(c?.apiKey || c?.apiKeyHash || c?.mtls);
  return config.gemeenten.flatMap((g, i) =>
    given(g.kvs.inbound)
      ? [
          toCredential(config, g.kvs.inbound, `gemeenten[${i}].kvs.inbound`, {
            id: `kvs-${g.code}`,
            kind: 'gemeente-kvs',
            gemeenten: [g.code],
          }),
        ]
      : [],
  );
}

/** PEM contents for the edge from a `services.<name>.tls` block; a missing file stops the start. */
export function edgeTlsFromConfig(
  tls: EdgeTlsConfig | undefined,
  where: string,
): EdgeTls | undefined {
  if (!tls) return undefined;
  const read = (file: string, key: string): Buffer => {
    try {
      return readFileSync(resolve(REPO_ROOT, file));
    } catch (err) {
      throw new ConfigError(`${where}.${key}: cannot read ${file}: ${(err as Error).message}`, {
        field: `${where}.${key}`,
        cause: err,
      });
    }
  };
  return {
    cert: read(tls.certFile, 'certFile'),
    key: read(tls.keyFile, 'keyFile'),
    ...(tls.caFile ? { ca: read(tls.caFile, 'caFile') } : {}),
    ...(tls.requestCert !== undefined ? { requestCert: tls.requestCert } : {}),
  };
}

/** The edge settings every `services.<name>` block with a partner API may hold. */
interface EdgeSettings {
  tls?: EdgeTlsConfig;
  bodyLimitBytes?: number;
  csvBodyLimitBytes?: number;
}

/**
 * The HTTP edge options of a service from its `services.<name>` block, the same for every
 * service: TLS (certificates read now, so a missing file stops the start before anything
 * connects), the JSON body limit and, only for an edge that takes CSV (`csv: true`), the CSV
 * parser with its limit.
 */
export function edgeOptionsFromConfig(
  config: HubConfig,
  service: string,
  opts: { csv?: boolean } = {},
): Pick<HttpEdgeOptions, 'tls' | 'bodyLimitBytes' | 'csv'> {
  const settings = (config.services[service] ?? {}) as EdgeSettings;
  const tls = edgeTlsFromConfig(settings.tls, `services.${service}.tls`);
  return {
    ...(tls ? { tls } : {}),
    ...(settings.bodyLimitBytes ? { bodyLimitBytes: settings.bodyLimitBytes } : {}),
    ...(opts.csv
      ? { csv: settings.csvBodyLimitBytes ? { bodyLimitBytes: settings.csvBodyLimitBytes } : {} }
      : {}),
  };
}
