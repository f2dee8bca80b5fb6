import {
  createPartnerClient,
  type BreakerOptions,
  type Logger,
  type Metrics,
  type PartnerClient,
} from '@ketenhub/kit';
import type {
  KredietbankAntwoord,
  KredietbankBeeindiging,
  KredietbankLooptijd,
  KredietbankOntzorgtraject,
  KredietbankWoning,
} from '@ketenhub/contracts/generated/kredietbank';

/** The Kredietbank answers 409 with this problem type when the referentie is already registered. */
export const TRAJECT_BESTAAT = 'https://kredietbank.example/problems/traject-bestaat';

export interface KredietbankClientOptions {
  baseUrl: string;
  token?: string;
  timeoutMs?: number;
  breaker?: BreakerOptions;
  logger: Logger;
  metrics?: Metrics;
}

export interface KredietbankClient {
  /**
   * Registers the traject, or changes it when the Kredietbank already has the referentie (the
   * KVS sent a new aanvraag for the same traject). `idempotencyKey` is the chain event id, so
   * a retried delivery is applied once.
   */
  registerOrChange(
    body: KredietbankOntzorgtraject,
    idempotencyKey: string,
  ): Promise<KredietbankAntwoord & { gewijzigd: boolean }>;
  /** Ends the traject early (POST …/beeindiging); `idempotencyKey` is the chain event id. */
  end(
    gemeentecode: string,
    referentie: string,
    body: KredietbankBeeindiging,
    idempotencyKey: string,
  ): Promise<KredietbankAntwoord>;
  /**
   * Moves the end of a running traject (PUT …/looptijd), as a PIP decided; `idempotencyKey`
   * is the chain event id of that PIP.
   */
  changeLooptijd(
    gemeentecode: string,
    referentie: string,
    body: KredietbankLooptijd,
    idempotencyKey: string,
  ): Promise<KredietbankAntwoord>;
  /**
   * The client moved into a home with a signed lease (PUT …/woning): new address, the rent to
   * the landlord; `idempotencyKey` is derived from the lease's chain event id.
   */
  changeWoning(
    gemeentecode: string,
    referentie: string,
    body: KredietbankWoning,
    idempotencyKey: string,
  ): Promise<KredietbankAntwoord>;
  /** Its breaker gates the consumers: while open, their messages wait in the stream. */
  client: PartnerClient;
  shutdown(): void;
}

export function createKredietbankClient(opts: KredietbankClientOptions): KredietbankClient {
  const client = createPartnerClient({
    partner: 'kredietbank',
    endpoint: 'ontzorgtrajecten',
    baseURL: opts.baseUrl,
    timeoutMs: opts.timeoutMs ?? 10_000,
    headers: {
      'content-type': 'application/json',
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
    },
    // "Already registered" is an answer, not a failure: the adapter then changes the traject.
    treatAsSuccess: (status, body) =>
      status === 409 && (body as { type?: unknown } | null)?.type === TRAJECT_BESTAAT,
    ...(opts.breaker ? { breaker: opts.breaker } : {}),
    logger: opts.logger,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  // Trajecten live per gemeente at the Kredietbank: two gemeenten may use the same referentie.
  const collection = (gemeentecode: string) => `/gemeenten/${gemeentecode}/ontzorgtrajecten`;
  const path = (gemeentecode: string, referentie: string) =>
    `${collection(gemeentecode)}/${encodeURIComponent(referentie)}`;
  return {
    async registerOrChange(body, idempotencyKey) {
      const created = await client.request<KredietbankAntwoord>({
        method: 'POST',
        url: collection(body.gemeentecode),
        data: body,
        idempotencyKey,
      });
      if (created.status !== 409) return { ...created.data, gewijzigd: false };
      const changed = await client.request<KredietbankAntwoord>({
        method: 'PUT',
        url: path(body.gemeentecode, body.referentie),
        data: body,
        // Its own key: the POST under the event id was refused, so it was not applied.
        idempotencyKey: `${idempotencyKey}:wijziging`,
      });
      return { ...changed.data, gewijzigd: true };
    },
    async end(gemeentecode, referentie, body, idempotencyKey) {
      const res = await client.request<KredietbankAntwoord>({
        method: 'POST',
        url: `${path(gemeentecode, referentie)}/beeindiging`,
        data: body,
        idempotencyKey,
      });
      return res.data;
    },
    async changeLooptijd(gemeentecode, referentie, body, idempotencyKey) {
      const res = await client.request<KredietbankAntwoord>({
        method: 'PUT',
        url: `${path(gemeentecode, referentie)}/looptijd`,
        data: body,
        idempotencyKey,
      });
      return res.data;
    },
    async changeWoning(gemeentecode, referentie, body, idempotencyKey) {
      const res = await client.request<KredietbankAntwoord>({
        method: 'PUT',
        url: `${path(gemeentecode, referentie)}/woning`,
        data: body,
        idempotencyKey,
      });
      return res.data;
    },
    client,
    shutdown: () => client.shutdown(),
  };
}
