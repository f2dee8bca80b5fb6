import {
  PartnerRejectedError,
  createPartnerClient,
  type BreakerOptions,
  type Logger,
  type Metrics,
  type PartnerClient,
} from '@ketenhub/kit';

/**
 * DUO's APIs as the hub calls them. Each API has its own client and circuit breaker (DUO may
 * have one API in maintenance while the others answer), its pinned version (minor versions have
 * renamed fields, NOTES.md), and the Digikoppeling headers bron/doel/berichtId on every call.
 * Persons are addressed by BSN in the path: such URLs never reach a log unscrubbed or a metric.
 */
export const DUO_APIS = [
  'Inburgeringsplicht',
  'Leerbaarheidstoets',
  'Inburgeringstermijn',
  'PIP',
  'MAP-PVT-Zroute',
  'GevolgdeUren',
  'Examen',
  'Inburgeringsaanbod',
  'Ontheffing',
  'Vrijstelling',
] as const;
export type DuoApi = (typeof DUO_APIS)[number];

/** The versions the hub is built and tested against (reference/duo-m2m, June 2026). */
export const PINNED_VERSIONS: Readonly<Record<DuoApi | 'Notificatie', string>> = {
  Notificatie: '1.8.0',
  Inburgeringsplicht: '1.2.2',
  Leerbaarheidstoets: '1.2.0',
  Inburgeringstermijn: '1.0.0',
  PIP: '1.2.0',
  'MAP-PVT-Zroute': '1.0.0',
  GevolgdeUren: '1.0.0',
  Examen: '1.0.0',
  Inburgeringsaanbod: '1.2.0',
  Ontheffing: '1.0.0',
  Vrijstelling: '1.0.0',
};

export interface DuoClientOptions {
  baseUrl: string;
  duoOin: string;
  token?: string;
  timeoutMs?: number;
  breaker?: BreakerOptions;
  versions?: Partial<Record<string, string>>;
  logger: Logger;
  metrics?: Metrics;
}

export interface DuoCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Below the base path, e.g. `/personen/123456789/PIP`. */
  path: string;
  /** The OIN of the gemeente on whose behalf the hub calls (bron). */
  bron: string;
  /** Digikoppeling message id; stable across retries of one melding. */
  berichtId: string;
  data?: unknown;
}

export interface DuoCallResult<T> {
  status: number;
  data: T;
  /**
   * DUO accepted a melding (2xx to a POST, PUT or DELETE) but answered with another API-Version
   * than the hub pins: the melding is registered, the operator must look at the new version.
   */
  versionDrift?: { answered: string; pinned: string };
}

export interface DuoClient {
  call<T>(api: DuoApi, req: DuoCall): Promise<DuoCallResult<T>>;
  /** A GET whose 404 means "DUO has nothing" rather than an error. */
  find<T>(api: DuoApi, req: Omit<DuoCall, 'method' | 'data'>): Promise<T | undefined>;
  client(api: DuoApi): PartnerClient;
  shutdown(): void;
}

const majorMinor = (v: string) => v.split('.').slice(0, 2).join('.');

export function createDuoClient(opts: DuoClientOptions): DuoClient {
  const versions = { ...PINNED_VERSIONS, ...opts.versions } as Record<string, string>;
  const clients = new Map<DuoApi, PartnerClient>(
    DUO_APIS.map((api) => [
      api,
      createPartnerClient({
        partner: 'duo',
        endpoint: api,
        baseURL: opts.baseUrl,
        timeoutMs: opts.timeoutMs ?? 10_000,
        headers: {
          'content-type': 'application/json',
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        },
        // DUO answers 403 with its Foutmeldingen when a melding breaks a business rule: that
        // is a refusal of this message, not of the hub's credentials.
        credentialStatuses: [401],
        ...(opts.breaker ? { breaker: opts.breaker } : {}),
        logger: opts.logger,
        ...(opts.metrics ? { metrics: opts.metrics } : {}),
      }),
    ]),
  );

  async function call<T>(api: DuoApi, req: DuoCall): Promise<DuoCallResult<T>> {
    const res = await clients.get(api)!.request<T>({
      method: req.method,
      url: req.path,
      data: req.data,
      headers: { bron: req.bron, doel: opts.duoOin, berichtId: req.berichtId },
      idempotencyKey: req.berichtId,
    });
    const version = res.headers['api-version'];
    if (!version || majorMinor(version) !== majorMinor(versions[api]!)) {
      // DUO took the melding: reporting it refused would make the gemeente send it again. What
      // DUO answered is not read, so the version cannot be misread; the caller raises an alert.
      if (req.method !== 'GET') {
        return {
          status: res.status,
          data: res.data,
          versionDrift: { answered: version ?? '(none)', pinned: versions[api]! },
        };
      }
      // A different minor version may have renamed fields: refuse to read it rather than
      // misread it. Not retried; the dead letter and alert tell the operator to re-pin.
      throw new PartnerRejectedError(
        `DUO ${api} answered API-Version ${version ?? '(none)'}, the hub is pinned to ${versions[api]}`,
        res.status,
        { field: 'API-Version', rule: `pinned ${versions[api]}` },
      );
    }
    return { status: res.status, data: res.data };
  }

  return {
    call,
    async find<T>(api: DuoApi, req: Omit<DuoCall, 'method' | 'data'>) {
      try {
        return (await call<T>(api, { ...req, method: 'GET' })).data;
      } catch (err) {
        if ((err as { partnerStatus?: number }).partnerStatus === 404) return undefined;
        throw err;
      }
    },
    client: (api) => clients.get(api)!,
    shutdown() {
      for (const c of clients.values()) c.shutdown();
    },
  };
}
