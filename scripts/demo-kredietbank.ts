/**
 * The Kredietbank part of `npm run demo`: financieel ontzorgen for some of the adults the DUO
 * part settled (their vestiging with BSN reached the hub, so the Kredietbank adapter can resolve
 * the BSN). The demo plays the gemeente's KVS through the KVS inbound API and moves the
 * Kredietbank simulator's clock:
 *   KVS: ontzorgen.aangevraagd (benefit, four fixed charges with valid IBANs);
 *   Kredietbank: starts each traject, pays monthly (one payment fails on purpose), reviews at
 *   three months;
 *   KVS: ends every fourth traject early (ontzorgen.beeindiging-aangevraagd) after six weeks;
 *   Kredietbank: ends the others at six months.
 * Flows: `kvs>kredietbank` (each aanvraag registered and each early end carried out at the
 * Kredietbank, once) and `kredietbank>kvs` (each webhook the Kredietbank sent reached the KVS of
 * the traject's gemeente as its ontzorgen.* event, once; matched exactly by event id).
 */
import { addDays, addMonths } from '@ketenhub/simulator-kredietbank';
import type { Traject, WebhookRecord } from '@ketenhub/simulator-kredietbank';
import type { OntzorgenAangevraagd } from '@ketenhub/contracts/generated';
import { buildEvent, nameBasedUuid } from '@ketenhub/kit';
import { ibanFor } from '@ketenhub/kit/privacy';
import type { ChainInfo } from './chain.ts';
import type { FlowResult } from './demo-duo.ts';

export interface OntzorgenPerson {
  inburgeraarId: string;
  gemeente: string;
  bsn: string;
  voornamen: string;
  geslachtsnaam: string;
}

/** A street and postcode range per gemeente of the shipped config, for plausible addresses. */
const ADRESSEN: Record<string, { woonplaats: string; straten: string[]; postcode: number }> = {
  gm0797: {
    woonplaats: 'Vlijmen',
    straten: ['Julianastraat', 'Akker', 'Mgr. Bekkersstraat'],
    postcode: 5251,
  },
  gm0796: {
    woonplaats: "'s-Hertogenbosch",
    straten: ['Hinthamerstraat', 'Orthenseweg', 'Graafseweg'],
    postcode: 5211,
  },
  gm0865: {
    woonplaats: 'Vught',
    straten: ['Taalstraat', 'Helvoirtseweg', 'Esschestraat'],
    postcode: 5261,
  },
};

const CREDITEUREN = [
  { soort: 'huur', crediteur: 'Woonstichting De Meierij', bank: 'RABO', bedragCent: 64_500 },
  { soort: 'energie', crediteur: 'Energie Direct', bank: 'INGB', bedragCent: 17_800 },
  { soort: 'water', crediteur: 'Brabant Water', bank: 'ABNA', bedragCent: 2_450 },
  { soort: 'zorgverzekering', crediteur: 'Zorgverzekeraar Zuid', bank: 'ASNB', bedragCent: 13_900 },
] as const;

/** A valid, person-specific IBAN: the account number follows from a seed. */
const iban = (bank: string, seed: number) =>
  ibanFor('NL', `${bank}${String(1_000_000_000 + (seed % 8_999_999_999)).padStart(10, '0')}`);

function aanvraag(
  p: OntzorgenPerson,
  i: number,
  trajectId: string,
  start: string,
): OntzorgenAangevraagd {
  const a = ADRESSEN[p.gemeente] ?? ADRESSEN.gm0796!;
  const seed = Number(p.bsn);
  return {
    inburgeraarId: p.inburgeraarId,
    gemeenteCode: p.gemeente,
    trajectId,
    client: {
      voornamen: p.voornamen,
      geslachtsnaam: p.geslachtsnaam,
      adres: {
        straat: a.straten[i % a.straten.length]!,
        huisnummer: 1 + (seed % 180),
        postcode: `${a.postcode + (i % 4)}${'ABCDEFGH'[i % 8]}${'KLMNPRST'[(i * 3) % 8]}`,
        woonplaats: a.woonplaats,
      },
      iban: iban('SNSB', seed),
    },
    uitkeringBedragCent: 142_000,
    vasteLasten: CREDITEUREN.map((c, k) => ({
      soort: c.soort,
      crediteur: c.crediteur,
      iban: iban(c.bank, 7919 * (k + 1)),
      bedragCent: c.bedragCent,
      kenmerk: `${c.soort.slice(0, 4).toUpperCase()} ${trajectId}`.slice(0, 35),
    })) as OntzorgenAangevraagd['vasteLasten'],
    startdatum: start,
    einddatum: addMonths(start, 6),
  };
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  if (!res.ok)
    throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
const postJson = <T>(url: string, body: unknown, headers: Record<string, string> = {}) =>
  json<T>(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

interface KvsEvent {
  id: string;
  deliveries: number;
}

export async function runKredietbankFlows(
  info: ChainInfo,
  people: OntzorgenPerson[],
  opts: { runTag: string; timeoutMs: number; say: (line: string) => void },
): Promise<{
  flows: FlowResult[];
  /** Webhooks by type, e.g. betaling.uitgevoerd 180. */
  ontzorgen: Record<string, number>;
  misrouted: number;
}> {
  const sim = info.kredietbankSimulator;
  const kvsEvent = <D>(p: OntzorgenPerson, type: string, data: D) =>
    buildEvent({
      id: nameBasedUuid(`demo:${opts.runTag}:${type}:${p.inburgeraarId}`),
      type: `nl.inburgering.${type}`,
      source: `urn:nld:oin:0000000100${p.gemeente.slice(2)}000000:systeem:kvs-simulator`,
      gemeente: p.gemeente,
      data,
    });
  const sendAsKvs = (p: OntzorgenPerson, event: unknown) =>
    postJson(`${info.kvsInbound}/v1/events`, event, {
      'content-type': 'application/cloudevents+json',
      authorization: `Bearer ${info.kvsApiKeys[p.gemeente]}`,
    });
  const waitUntil = async (done: () => Promise<boolean>, until: number) => {
    while (!(await done()) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  };
  const until = Date.now() + opts.timeoutMs;

  // The simulator's clock is shared with earlier runs against the same `npm start`: start each
  // traject from its today, so the six months lie ahead of it.
  const { today } = await json<{ today: string }>(`${sim}/_sim/clock`);
  const start = addDays(today, 7);
  const before = await json<{ duplicates: number }>(`${sim}/_sim/stats`);
  const trajecten = people.map((p, i) => ({ p, i, trajectId: `OZ-${opts.runTag}-${i}` }));
  for (const t of trajecten) {
    await sendAsKvs(
      t.p,
      kvsEvent(t.p, 'ontzorgen.aangevraagd', aanvraag(t.p, t.i, t.trajectId, start)),
    );
  }

  const key = (gemeente: string, referentie: string) => `${gemeente.slice(2)}/${referentie}`;
  const wanted = new Set(trajecten.map((t) => key(t.p.gemeente, t.trajectId)));
  const ours = async () =>
    (await json<Traject[]>(`${sim}/_sim/trajecten`)).filter((t) =>
      wanted.has(key(`gm${t.aanvraag.gemeentecode}`, t.aanvraag.referentie)),
    );
  await waitUntil(async () => (await ours()).length === trajecten.length, until);
  const registered = new Set((await ours()).map((t) => t.aanvraag.referentie));

  // One failed payment on purpose (as if the balance ran short), then six weeks.
  const first = trajecten.find((t) => registered.has(t.trajectId));
  if (first) {
    await postJson(`${sim}/_sim/payment-faults`, {
      referentie: first.trajectId,
      count: 1,
      reden: 'ONVOLDOENDE_SALDO',
    });
  }
  await postJson(`${sim}/_sim/clock`, { advanceDays: 42 });

  // Every fourth traject ends early at the gemeente's request.
  const early = trajecten.filter((t) => t.i % 4 === 3 && registered.has(t.trajectId));
  const endDate = addDays(start, 42);
  for (const t of early) {
    await sendAsKvs(
      t.p,
      kvsEvent(t.p, 'ontzorgen.beeindiging-aangevraagd', {
        inburgeraarId: t.p.inburgeraarId,
        gemeenteCode: t.p.gemeente,
        trajectId: t.trajectId,
        datum: endDate,
        reden: 'op-verzoek-gemeente',
      }),
    );
  }
  const earlyIds = new Set(early.map((t) => t.trajectId));
  const endedEarly = async () =>
    (await ours()).filter((t) => earlyIds.has(t.aanvraag.referentie) && t.status === 'beeindigd');
  await waitUntil(async () => (await endedEarly()).length === early.length, until);
  const carriedOut = (await endedEarly()).length;

  // The rest of the six months: payments, the review, the end.
  await postJson(`${sim}/_sim/clock`, { advanceDays: 200 });
  const ourWebhooks = async () =>
    (await json<WebhookRecord[]>(`${sim}/_sim/webhooks`)).filter((w) =>
      wanted.has(key(`gm${w.webhook.gemeentecode}`, w.webhook.referentie)),
    );
  await waitUntil(async () => (await ourWebhooks()).every((w) => w.outcome !== 'pending'), until);
  const webhooks = await ourWebhooks();
  const expected = webhooks.map((w) => ({
    id: nameBasedUuid(`kredietbank:${w.webhook.id}`),
    gemeente: `gm${w.webhook.gemeentecode}`,
  }));
  const gemeenten = [...new Set(people.map((p) => p.gemeente))];
  const atKvs = async () => {
    const all = new Map<string, Map<string, number>>();
    for (const g of gemeenten) {
      const { events } = await json<{ events: KvsEvent[] }>(
        `${info.kvsSimulator}/_sim/gemeenten/${g}/events`,
      );
      all.set(g, new Map(events.map((e) => [e.id, e.deliveries])));
    }
    return all;
  };
  let seen = await atKvs();
  await waitUntil(async () => {
    seen = await atKvs();
    return expected.every((x) => seen.get(x.gemeente)?.has(x.id));
  }, until);
  // Late duplicates (a redelivery racing the last ack) show up before counting.
  await new Promise((r) => setTimeout(r, 1000));
  seen = await atKvs();

  let delivered = 0;
  let duplicates = 0;
  let misrouted = 0;
  for (const x of expected) {
    const n = seen.get(x.gemeente)?.get(x.id);
    if (n !== undefined) {
      delivered++;
      duplicates += n - 1;
    }
    for (const g of gemeenten) if (g !== x.gemeente && seen.get(g)?.has(x.id)) misrouted++;
  }
  const after = await json<{ duplicates: number }>(`${sim}/_sim/stats`);
  const byType: Record<string, number> = {};
  for (const w of webhooks) byType[w.webhook.type] = (byType[w.webhook.type] ?? 0) + 1;
  opts.say(
    `Kredietbank: ${registered.size} ontzorgtrajecten, ${carriedOut} ended early; webhooks ${Object.entries(
      byType,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  const sent = trajecten.length + early.length;
  return {
    flows: [
      {
        flow: 'kvs>kredietbank',
        sent,
        delivered: registered.size + carriedOut,
        lost: sent - registered.size - carriedOut,
        // A repeat the Kredietbank answered from its idempotency store still reached it twice.
        duplicates: after.duplicates - before.duplicates,
      },
      {
        flow: 'kredietbank>kvs',
        sent: expected.length,
        delivered,
        lost: expected.length - delivered,
        duplicates,
      },
    ],
    ontzorgen: byType,
    misrouted,
  };
}
