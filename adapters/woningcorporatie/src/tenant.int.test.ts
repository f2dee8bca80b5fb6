/**
 * A corporatie acts only for the gemeenten it is contracted by and only on its own zoektochten,
 * against the real module under the kit's runner and a nats-server of its own. Woonpoort's key
 * is bound to gm0797; Stadswonen's to gm0796. The zoektochten are put in the store the module
 * writes before it sends one (as if the hub had sent them).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectNats,
  createLogger,
  generateApiKey,
  runModules,
  type HubConfig,
  type RunningModules,
} from '@ketenhub/kit';
import { startLocalNats, type LocalNats } from '@ketenhub/kit/processes';
import { CONFORMANCE_SERVICE } from '@ketenhub/kit/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import { woningcorporatieModule } from './module.ts';
import { openZoektochtStore, type ZoektochtStore } from './zoektocht.ts';

const KEYS = { woonpoort: generateApiKey(), stadswonen: generateApiKey() };
let nats: LocalNats;
let nc: NatsConnection;
let running: RunningModules;
let store: ZoektochtStore;

const zid = (n: number) => `wz-${String(n).padStart(32, '0')}`;
const acceptatie = (zoektochtId: string) => ({
  zoektochtId,
  aanbodId: 'AB-1',
  geaccepteerdOp: '2026-11-20',
});

function post(as: keyof typeof KEYS, body: unknown) {
  return fetch(`${running.url}/v1/acceptaties`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS[as]}` },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  nats = await startLocalNats();
  const config = {
    hub: { oin: '00000001234567890000', pseudonymKey: randomBytes(32).toString('hex') },
    nats: { url: nats.url },
    gemeenten: ['gm0797', 'gm0796'].map((code) => ({
      code,
      naam: code,
      oin: `0000000100${code.slice(2)}000000`,
    })),
    partners: {
      woningcorporatie: {
        organisations: [
          {
            id: 'woonpoort',
            gemeenten: ['gm0797'],
            endpoint: { url: 'http://127.0.0.1:9' },
            credential: { apiKey: KEYS.woonpoort },
          },
          {
            id: 'stadswonen',
            gemeenten: ['gm0796'],
            endpoint: { url: 'http://127.0.0.1:9' },
            credential: { apiKey: KEYS.stadswonen },
          },
        ],
      },
    },
    services: { woningcorporatie: CONFORMANCE_SERVICE },
  } as unknown as HubConfig;
  running = await runModules(config, [woningcorporatieModule()], {
    logger: createLogger('test', { level: 'silent' }),
  });
  nc = await connectNats(nats.url, 'test-zoektochten');
  store = await openZoektochtStore(nc, { ttlDays: 1 });
  const about = { inburgeraarId: `ih-${'a'.repeat(32)}`, aanvraagId: 'WA-1' };
  // Woonpoort's zoektocht in its own gemeente, one from before its contract with gm0796 ended,
  // and Stadswonen's in gm0796.
  await store.put(zid(1), { ...about, gemeente: 'gm0797', corporatie: 'woonpoort' });
  await store.put(zid(2), { ...about, gemeente: 'gm0796', corporatie: 'woonpoort' });
  await store.put(zid(3), { ...about, gemeente: 'gm0796', corporatie: 'stadswonen' });
}, 60_000);
afterAll(async () => {
  await running?.stop();
  await nc?.drain();
  await nats?.stop();
});

describe('a corporatie acts only for its own gemeenten and zoektochten', () => {
  it('answers about its own zoektocht in its own gemeente', async () => {
    const res = await post('woonpoort', acceptatie(zid(1)));
    expect(res.status, await res.clone().text()).toBe(202);
    expect(await res.json()).toMatchObject({ type: 'nl.inburgering.woning.geaccepteerd' });
  });

  it('may not act for gm0796 with a key bound to gm0797: 403 credential-scope', async () => {
    const res = await post('woonpoort', acceptatie(zid(2)));
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(await res.json())).toContain('credential-scope');
  });

  it("cannot touch another corporatie's zoektocht: the same 400 as an unknown one", async () => {
    const other = await post('woonpoort', acceptatie(zid(3)));
    const unknown = await post('woonpoort', acceptatie(zid(4)));
    expect(other.status).toBe(400);
    expect(unknown.status).toBe(400);
    const errors = async (r: Response) => ((await r.json()) as { errors: unknown }).errors;
    expect(await errors(other)).toEqual(await errors(unknown));
    // Stadswonen itself may.
    expect((await post('stadswonen', acceptatie(zid(3)))).status).toBe(202);
  });

  const lease = (over: object) =>
    fetch(`${running.url}/v1/huurcontracten`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.woonpoort}` },
      body: JSON.stringify({
        zoektochtId: zid(1),
        aanbodId: 'AB-1',
        adres: { straat: 'Kerkstraat', huisnummer: 1, postcode: '7411AB', woonplaats: 'Heusden' },
        huurprijsCent: 70000,
        betaling: { iban: 'NL18RABO0123459876', tenaamstelling: 'Woonpoort', kenmerk: 'HUUR AB-1' },
        ingangsdatum: '2026-12-01',
        sleuteloverdracht: '2026-12-01',
        getekendOp: '2026-11-20',
        ...over,
      }),
    });
  const errorsOf = async (res: Response) => ((await res.json()) as { errors: unknown[] }).errors;

  it('refuses a lease whose keys come before the signing, naming field and rule', async () => {
    const res = await lease({ sleuteloverdracht: '2026-11-01' });
    expect(res.status).toBe(400);
    expect(await errorsOf(res)).toContainEqual(
      expect.objectContaining({ field: 'sleuteloverdracht', rule: 'not before getekendOp' }),
    );
  });

  it('refuses a lease whose rent account fails the IBAN check digits, naming field and rule', async () => {
    // One digit off: the pattern matches, mod-97 does not.
    const res = await lease({
      betaling: { iban: 'NL18RABO0123459867', tenaamstelling: 'Woonpoort', kenmerk: 'HUUR AB-1' },
    });
    expect(res.status).toBe(400);
    expect(await errorsOf(res)).toContainEqual(
      expect.objectContaining({ field: 'betaling.iban', rule: 'iban' }),
    );
  });
});
