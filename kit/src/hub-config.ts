import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { policies, retentionDays, schemas, type Register } from '@ketenhub/contracts';
import type {
  EdgeTlsConfig,
  HubConfig,
  PartnerBlockConfig,
  PartnerCredentialConfig,
  PartnerEndpointConfig,
  PartnerOrganisationConfig,
} from '@ketenhub/contracts/generated';
import { parseApiKeyHash } from './api-key-hash.ts';
import { loadConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import type { EdgeTls, HttpEdgeOptions, PartnerCredential } from './http-edge.ts';
import { DEFAULT_LIMITS, type NatsAuth, type StreamLimits } from './nats.ts';

export type { HubConfig, PartnerBlockConfig, PartnerOrganisationConfig };

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
 * A credential from a config block (`partners.<id>.credential`,
 * `partners.<id>.organisations[i].credential`, `admins[i].credential`). A plaintext `apiKey` is a development aid: in production
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

/** A partner module's block `partners.<id>`; absent = an empty block. */
export function partnerBlock(config: HubConfig, partner: string): PartnerBlockConfig {
  return config.partners?.[partner] ?? {};
}

/** One organisation of a partner, from `partners.<id>` or one of its `organisations`. */
export interface PartnerOrganisation {
  id: string;
  naam?: string;
  /** The gemeenten it serves; its credential is bound to them. Absent = every served one. */
  gemeenten?: string[];
  endpoint?: PartnerEndpointConfig;
  credential?: PartnerCredentialConfig;
  /** Its config path, for errors. */
  where: string;
}

/**
 * The organisations of a partner, the same for every partner: the entries of
 * `partners.<id>.organisations`, or the block itself as one organisation with the partner's id.
 * A block that mixes both shapes, or names an organisation twice, is refused.
 */
export function organisationsOf(config: HubConfig, partner: string): PartnerOrganisation[] {
  const block = partnerBlock(config, partner);
  const where = `partners.${partner}`;
  if (!block.organisations) {
    return block.endpoint || block.credential ? [{ id: partner, ...pick(block), where }] : [];
  }
  for (const key of ['endpoint', 'credential'] as const) {
    if (block[key]) {
      throw new ConfigError(
        `${where}.${key}: a partner with organisations has its ${key} per organisation`,
        { field: `${where}.${key}`, rule: 'one shape' },
      );
    }
  }
  const seen = new Set<string>();
  return block.organisations.map((o, i) => {
    const at = `${where}.organisations[${i}]`;
    if (seen.has(o.id)) {
      throw new ConfigError(`${at}.id: ${o.id} is named twice`, {
        field: `${at}.id`,
        rule: 'unique',
      });
    }
    seen.add(o.id);
    if (o.gemeenten?.length === 0) {
      throw new ConfigError(`${at}.gemeenten: empty; leave it out to serve every gemeente`, {
        field: `${at}.gemeenten`,
        rule: 'not empty',
      });
    }
    const served = servedGemeenten(config);
    const foreign = (o.gemeenten ?? []).find((g) => !served.has(g));
    if (foreign) {
      throw new ConfigError(`${at}.gemeenten: ${foreign} is not a gemeente this hub serves`, {
        field: `${at}.gemeenten`,
        rule: 'served gemeente',
      });
    }
    return {
      id: o.id,
      ...(o.naam ? { naam: o.naam } : {}),
      ...(o.gemeenten ? { gemeenten: o.gemeenten } : {}),
      ...pick(o),
      where: at,
    };
  });
}

/** An organisation with what a module requires of it (`organisationsWith`). */
export type RequiredOrganisation<E extends boolean, G extends boolean> = PartnerOrganisation &
  (E extends true ? { endpoint: PartnerEndpointConfig } : object) &
  (G extends true ? { gemeenten: string[] } : object);

/**
 * The organisations of a partner whose module needs at least one, each with an `endpoint` (where
 * the hub calls it) and/or its own `gemeenten` (the gemeenten it is contracted by) when the module
 * says so; what is missing is a ConfigError naming the organisation's field, and `what` says in a
 * word what the hub does there ("where the hub registers learners").
 */
export function organisationsWith<E extends boolean = false, G extends boolean = false>(
  config: HubConfig,
  partner: string,
  needs: { endpoint?: E; gemeenten?: G; what?: string },
): RequiredOrganisation<E, G>[] {
  const organisations = organisationsOf(config, partner);
  if (organisations.length === 0) {
    const where = `partners.${partner}`;
    throw new ConfigError(`${where}: the ${partner} module needs at least one organisation`, {
      field: where,
      rule: 'required',
    });
  }
  for (const o of organisations) {
    if (needs.gemeenten && !o.gemeenten) {
      throw new ConfigError(`${o.where}.gemeenten: required (the gemeenten it is contracted by)`, {
        field: `${o.where}.gemeenten`,
        rule: 'required',
      });
    }
    if (needs.endpoint && !o.endpoint) {
      const why = needs.what ? ` (${needs.what})` : '';
      throw new ConfigError(`${o.where}.endpoint: required${why}`, {
        field: `${o.where}.endpoint`,
        rule: 'required',
      });
    }
  }
  return organisations as RequiredOrganisation<E, G>[];
}

function pick(o: {
  endpoint?: PartnerEndpointConfig;
  credential?: PartnerCredentialConfig;
}): Pick<PartnerOrganisation, 'endpoint' | 'credential'> {
  return {
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.credential ? { credential: o.credential } : {}),
  };
}

/** A credential block with a key or a certificate in it (not left empty). */
function given(c: PartnerCredentialConfig | undefined): boolean {
  return !!(c?.apiKey || c?.apiKeyHash || c?.mtls);
}

/**
 * The credentials of a partner's organisations, each with the organisation's id and bound to its
 * gemeenten. An organisation whose credential block is left empty (its environment variables
 * unset) cannot call the hub, and is left out.
 */
export function credentialsOf(
  config: HubConfig,
  partner: string,
  kind: string = partner,
): PartnerCredential[] {
  return organisationsOf(config, partner).flatMap((o) =>
    given(o.credential)
      ? [
          toCredential(config, o.credential, `${o.where}.credential`, {
            id: o.id,
            kind,
            ...(o.gemeenten ? { gemeenten: o.gemeenten } : {}),
          }),
        ]
      : [],
  );
}

/** The one credential of a partner that must have one (`partners.<id>.credential`). */
export function credentialFromConfig(
  config: HubConfig,
  partner: string,
  kind: string = partner,
): PartnerCredential {
  return toCredential(
    config,
    partnerBlock(config, partner).credential,
    `partners.${partner}.credential`,
    { id: partner, kind },
  );
}

/** Where the hub calls a partner that is one organisation (`partners.<id>.endpoint`). */
export function endpointOf(config: HubConfig, partner: string): PartnerEndpointConfig {
  const endpoint = partnerBlock(config, partner).endpoint;
  if (!endpoint) {
    throw new ConfigError(`partners.${partner}.endpoint: required by the ${partner} module`, {
      field: `partners.${partner}.endpoint`,
      rule: 'required',
    });
  }
  return endpoint;
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
