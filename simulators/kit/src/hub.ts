/**
 * A simulator's view of the hub configuration (`KETENHUB_CONFIG`), read through the kit the way
 * the hub's own modules read it: the partner's organisations, the token the hub presents to
 * it, the key it presents to the hub, the hub service it calls back and the module's settings.
 *
 * `npm start` gives a simulator only `--port` (and `--organisation` for one per organisation);
 * the rest comes from here. A simulator's explicit flags win, and without `KETENHUB_CONFIG` it
 * reads nothing: it then runs on its flags alone, as compose and the chaos hub start it. The
 * file is read on first use, so a simulator whose flags say everything never reads it.
 */

import {
  loadHubConfig,
  organisationsOf,
  partnerSettings,
  type HubConfig,
  type PartnerOrganisation,
} from '@ketenhub/kit';

export interface SimulatorHub {
  /** The partner module whose block (`partners.<id>`) this simulator plays. */
  readonly partner: string;
  /** `--organisation`: the one organisation this process plays. */
  readonly organisationId: string | undefined;
  /**
   * The hub configuration of `KETENHUB_CONFIG`, loaded and validated on first use; undefined
   * when the variable is not set. One that does not load is a usage error naming the problem.
   */
  config(): HubConfig | undefined;
  /** Every organisation of `partners.<id>` (one with the partner's id for a single one). */
  organisations(): PartnerOrganisation[];
  /**
   * The organisation this process plays: `--organisation` among `partners.<id>.organisations`
   * (a usage error when it is not there), or the partner itself when it is one organisation.
   */
  organisation(): PartnerOrganisation | undefined;
  /** The bearer token the hub presents to it (`endpoint.token`); undefined when empty. */
  token(): string | undefined;
  /** The key it presents when it calls the hub (`credential.apiKey`); undefined when empty. */
  apiKey(): string | undefined;
  /**
   * The base URL of a hub service it calls back (`services.<service>`, default the partner's
   * own): `http://<host>:<port>`, loopback for a wildcard host; undefined without a port.
   */
  serviceUrl(service?: string): string | undefined;
  /** The module's own settings (`partners.<id>.settings`), as written. */
  settings<T extends object>(): T | undefined;
}

export interface SimulatorHubOptions {
  partner: string;
  organisation?: string;
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Reports a problem as a usage error; must not return (the CLI's `fail`). */
  fail: (message: string) => never;
}

export function createSimulatorHub(opts: SimulatorHubOptions): SimulatorHub {
  const env = opts.env ?? process.env;
  let loaded: { config?: HubConfig } | undefined;
  const attempt = <T>(what: () => T): T => {
    try {
      return what();
    } catch (err) {
      return opts.fail((err as Error).message);
    }
  };
  const config = (): HubConfig | undefined => {
    loaded ??= env.KETENHUB_CONFIG
      ? { config: attempt(() => loadHubConfig(env.KETENHUB_CONFIG, env)) }
      : {};
    return loaded.config;
  };
  const organisations = (): PartnerOrganisation[] => {
    const c = config();
    return c ? attempt(() => organisationsOf(c, opts.partner)) : [];
  };
  const organisation = (): PartnerOrganisation | undefined => {
    const c = config();
    if (!c) return undefined;
    const all = organisations();
    if (opts.organisation === undefined) {
      return c.partners?.[opts.partner]?.organisations ? undefined : all[0];
    }
    const found = all.find((o) => o.id === opts.organisation);
    if (!found) {
      return opts.fail(
        `--organisation ${opts.organisation}: not one of partners.${opts.partner}.organisations (${
          all.map((o) => o.id).join(', ') || 'none'
        }) in ${env.KETENHUB_CONFIG}`,
      );
    }
    return found;
  };
  return {
    partner: opts.partner,
    organisationId: opts.organisation,
    config,
    organisations,
    organisation,
    token: () => organisation()?.endpoint?.token || undefined,
    apiKey: () => organisation()?.credential?.apiKey || undefined,
    serviceUrl(service = opts.partner) {
      const block = config()?.services[service] as { host?: string; port?: number } | undefined;
      if (block?.port === undefined) return undefined;
      const host = !block.host || ['0.0.0.0', '::'].includes(block.host) ? '127.0.0.1' : block.host;
      return `http://${host.includes(':') ? `[${host}]` : host}:${block.port}`;
    },
    settings<T extends object>() {
      const c = config();
      return c ? attempt(() => partnerSettings<T>(c, { id: opts.partner })) : undefined;
    },
  };
}
