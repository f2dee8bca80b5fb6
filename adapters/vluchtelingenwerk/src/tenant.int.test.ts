/**
 * An office acts only for the gemeenten it is contracted by and only on its own begeleidingen,
 * against the real module under the kit's runner and a nats-server of its own. The Langstraat
 * office's key is bound to gm0797; Den Bosch's to gm0796. The begeleidingen are put in the
 * store the module writes before it sends an aanvraag (as if the hub had sent them). The
 * signing follows each gemeente's rule: gm0797 direct, gm0796 kvs.
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
import { openBegeleidingStore, type BegeleidingStore } from './begeleiding.ts';
import { vluchtelingenwerkModule } from './module.ts';

const KEYS = { langstraat: generateApiKey(), denBosch: generateApiKey() };
let nats: LocalNats;
let nc: NatsConnection;
let running: RunningModules;
let store: BegeleidingStore;

const bid = (n: number) => `vb-${String(n).padStart(32, '0')}`;
const contactmoment = (begeleidingId: string) => ({
  begeleidingId,
  contactmomentId: 'CM-1',
  datum: '2026-11-20',
  soort: 'huisbezoek',
  domeinen: ['gezinshereniging'],
});

function post(as: keyof typeof KEYS, path: string, body: unknown) {
  return fetch(`${running.url}${path}`, {
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
      vluchtelingenwerk: {
        organisations: [
          {
            id: 'vwn-langstraat',
            gemeenten: ['gm0797'],
            endpoint: { url: 'http://127.0.0.1:9' },
            credential: { apiKey: KEYS.langstraat },
          },
          {
            id: 'vwn-den-bosch',
            gemeenten: ['gm0796'],
            endpoint: { url: 'http://127.0.0.1:9' },
            credential: { apiKey: KEYS.denBosch },
          },
        ],
        settings: { pvtBevestiging: { standaard: 'direct', gemeenten: { gm0796: 'kvs' } } },
      },
    },
    services: { vluchtelingenwerk: CONFORMANCE_SERVICE },
  } as unknown as HubConfig;
  running = await runModules(config, [vluchtelingenwerkModule()], {
    logger: createLogger('test', { level: 'silent' }),
  });
  nc = await connectNats(nats.url, 'test-begeleidingen');
  store = await openBegeleidingStore(nc, { ttlDays: 1 });
  const about = {
    inburgeraarId: `ih-${'a'.repeat(32)}`,
    aanvraagId: 'MB-1',
    onderdelen: ['maatschappelijke-begeleiding', 'pvt'] as const,
  };
  // Langstraat's begeleiding in its own gemeente, one in gm0796 from before its contract there
  // ended, Den Bosch's in gm0796, and a PVT-only one (a gezinsmigrant) of Langstraat's.
  await store.put(bid(1), {
    ...about,
    onderdelen: [...about.onderdelen],
    gemeente: 'gm0797',
    vestiging: 'vwn-langstraat',
  });
  await store.put(bid(2), {
    ...about,
    onderdelen: [...about.onderdelen],
    gemeente: 'gm0796',
    vestiging: 'vwn-langstraat',
  });
  await store.put(bid(3), {
    ...about,
    onderdelen: [...about.onderdelen],
    gemeente: 'gm0796',
    vestiging: 'vwn-den-bosch',
  });
  await store.put(bid(5), {
    ...about,
    onderdelen: ['pvt'],
    gemeente: 'gm0797',
    vestiging: 'vwn-langstraat',
  });
}, 60_000);
afterAll(async () => {
  await running?.stop();
  await nc?.drain();
  await nats?.stop();
});

describe('an office acts only for its own gemeenten and begeleidingen', () => {
  it('reports about its own begeleiding in its own gemeente', async () => {
    const res = await post('langstraat', '/v1/contactmomenten', contactmoment(bid(1)));
    expect(res.status, await res.clone().text()).toBe(202);
    expect(await res.json()).toMatchObject({ type: 'nl.inburgering.begeleiding.voortgang' });
  });

  it('may not act for gm0796 with a key bound to gm0797: 403 credential-scope', async () => {
    const res = await post('langstraat', '/v1/contactmomenten', contactmoment(bid(2)));
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(await res.json())).toContain('credential-scope');
  });

  it("cannot touch another office's begeleiding: the same 400 as an unknown one", async () => {
    const other = await post('langstraat', '/v1/contactmomenten', contactmoment(bid(3)));
    const unknown = await post('langstraat', '/v1/contactmomenten', contactmoment(bid(4)));
    expect(other.status).toBe(400);
    expect(unknown.status).toBe(400);
    const errors = async (r: Response) => ((await r.json()) as { errors: unknown }).errors;
    expect(await errors(other)).toEqual(await errors(unknown));
    // Den Bosch itself may.
    expect((await post('denBosch', '/v1/contactmomenten', contactmoment(bid(3)))).status).toBe(202);
  });

  it('refuses a report about a part the gemeente did not assign, naming field and rule', async () => {
    const res = await post('langstraat', '/v1/contactmomenten', contactmoment(bid(5)));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: unknown[] }).errors).toContainEqual(
      expect.objectContaining({
        field: 'begeleidingId',
        rule: 'maatschappelijke-begeleiding assigned',
      }),
    );
    const workshop = {
      begeleidingId: bid(5),
      sessieId: 'WS-1',
      datum: '2026-11-20',
      deel: 1,
      uren: 3,
    };
    expect((await post('langstraat', '/v1/workshops', workshop)).status).toBe(202);
  });

  it('refuses free text in a contact moment: only the domain codes', async () => {
    const res = await post('langstraat', '/v1/contactmomenten', {
      ...contactmoment(bid(1)),
      toelichting: 'had last van rugpijn',
    });
    expect(res.status).toBe(400);
    const res2 = await post('langstraat', '/v1/contactmomenten', {
      ...contactmoment(bid(1)),
      domeinen: ['rugpijn'],
    });
    expect(res2.status).toBe(400);
    expect(JSON.stringify(await res2.json())).toContain('domeinen');
  });
});

describe("the signing follows the gemeente's rule", () => {
  it('gm0797 (direct): pvt.ondertekend; gm0796 (kvs): pvt.ondertekening-gemeld', async () => {
    const direct = await post('langstraat', '/v1/ondertekeningen', {
      begeleidingId: bid(1),
      datumOndertekening: '2026-11-20',
    });
    expect(direct.status).toBe(202);
    expect(await direct.json()).toMatchObject({ type: 'nl.inburgering.pvt.ondertekend' });
    const kvs = await post('denBosch', '/v1/ondertekeningen', {
      begeleidingId: bid(3),
      datumOndertekening: '2026-11-20',
    });
    expect(kvs.status).toBe(202);
    expect(await kvs.json()).toMatchObject({ type: 'nl.inburgering.pvt.ondertekening-gemeld' });
  });
});
