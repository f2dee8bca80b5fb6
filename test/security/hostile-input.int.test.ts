/**
 * Hostile input at every partner edge and the admin API, one named case per input: each is
 * answered with the expected 4xx as problem+json (400s naming field and rule), echoes none of
 * the personal data it carried, stores nothing in KETEN and reaches no partner simulator. A
 * flood of made-up keys does not lock out a valid key. Afterwards every service is healthy.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DUO_OIN,
  eventually,
  ketenLastSeq,
  oinOf,
  partnerCounts,
  settle,
  startSecurityChain,
  expectServicesHealthy,
  type PartnerCounts,
  type SecurityChain,
} from './chain.ts';
import {
  ACHTERNAAM,
  BAD_BSN,
  BAD_IBAN,
  aanvraag,
  gevestigd,
  koppeling,
  kvsEvent,
  notificatie,
  overdracht,
  personalData,
  pip,
  testBsns,
  uren,
  webhook,
} from './fixtures.ts';
import { call, expectProblem, type Expected } from './problem.ts';

let chain: SecurityChain;
/** A fixed UUID for ids in case names (a name must be the same when listed and when run). */
const UUID = '6f1d1f5e-3c1a-4b7e-9d55-0c2a4e9b7a10';
/** The traject pseudonym taalschool-zuid got for person S (gm0797). */
let zuidTraject: string;
const S = testBsns.s;
const PII = personalData(S);

beforeAll(async () => {
  chain = await startSecurityChain();
  // Person S of gm0797, known to the hub, with a traject at taalschool-zuid and at the
  // Kredietbank, so identifier tricks can aim at things that exist.
  const koppelingRes = await post(
    'coa',
    '/v1/koppelingen',
    koppeling({ koppelingId: 'KOP-S', bsn: S }),
  );
  expect(koppelingRes.status).toBe(202);
  chain.sims.duo.seed({
    bsn: S,
    vNummer: Number(S.slice(1)),
    gemeentecode: '0797',
    vestigingsdatum: '2026-09-01',
  });
  const id = chain.idOf(S);
  for (const event of [
    gevestigd('gm0797', id, { bsn: S }),
    pip('gm0797', id, 'S', {
      taalaanbieder: 'taalschool-zuid',
      startdatumLeerroute: '2026-11-02',
      urenPerWeek: 12,
      deelnemer: { voornamen: 'Sara', geslachtsnaam: 'Setup' },
    }),
    aanvraag('gm0797', id, 'OZ-S'),
  ]) {
    const res = await post('kvs', '/v1/events', event);
    expect(res.status, await res.text()).toBe(202);
  }
  const zuid = chain.sims.schools['taalschool-zuid'];
  expect(await eventually(() => zuid.aanmeldingen().length === 1)).toBe(true);
  zuidTraject = zuid.aanmeldingen()[0]!.trajectId;
  expect(
    await eventually(() =>
      chain.sims.kredietbank.trajecten().some((t) => t.aanvraag.referentie === 'OZ-S'),
    ),
  ).toBe(true);
  await settle(chain);
});
afterAll(async () => {
  await chain?.stop();
});

type Edge = keyof SecurityChain['edges'];

/** The key each edge's own partner presents (gm0797's KVS, taalschool-noord, `beheer`). */
function ownKey(edge: Edge): string {
  const k = chain.keys;
  return {
    coa: k.coa,
    kvs: k.kvs.gm0797,
    duo: k.duo,
    kredietbank: k.kredietbank,
    school: k.school['taalschool-noord'],
    admin: k.admin.beheer,
  }[edge];
}

/** A valid key of another kind of partner than the edge serves. */
function otherKindKey(edge: Edge): string {
  return edge === 'kvs' ? chain.keys.coa : chain.keys.kvs.gm0797;
}

function duoHeaders(): Record<string, string> {
  return { bron: DUO_OIN, doel: oinOf('gm0797'), berichtid: randomUUID() };
}

function post(edge: Edge, path: string, body: unknown) {
  return fetch(`${chain.edges[edge]}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${ownKey(edge)}`,
      ...(edge === 'duo' ? duoHeaders() : {}),
    },
    body: JSON.stringify(body),
  });
}

interface Case extends Expected {
  name: string;
  edge: Edge;
  method?: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** Authorization header; default the edge's own partner's key. `null`: none. */
  authorization?: () => string | null;
  /** Default application/json; `null`: none sent (the body goes as bytes, so fetch adds none). */
  contentType?: string | null;
  /** Extra headers; a list is sent as repeated headers. */
  headers?: () => Record<string, string | string[]>;
  body?: () => string;
}

/** The inputs that break any JSON route the same way. */
function bodyCases(
  edge: Edge,
  path: string,
  valid: () => unknown,
  opts: { csvElsewhere?: boolean } = {},
): Case[] {
  const json = () => JSON.stringify(valid());
  const base = { edge, path, personalData: PII };
  const depth = 50_000;
  return [
    { ...base, name: 'malformed JSON', status: 400, body: () => json().slice(0, -7) },
    { ...base, name: 'JSON null', status: 400, body: () => 'null' },
    { ...base, name: 'JSON array', status: 400, body: () => `[${json()}]` },
    { ...base, name: 'JSON string', status: 400, body: () => JSON.stringify(json()) },
    { ...base, name: 'JSON number', status: 400, body: () => '42' },
    { ...base, name: 'empty body', status: 400, body: () => '' },
    {
      ...base,
      name: `JSON nested ${depth} levels deep`,
      status: 400,
      body: () => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
    },
    {
      ...base,
      name: 'body over 1 MiB',
      status: 413,
      body: () => JSON.stringify({ ...(valid() as object), pad: 'x'.repeat(1024 * 1024 + 10) }),
    },
    { ...base, name: 'text/plain', status: 415, contentType: 'text/plain', body: json },
    {
      ...base,
      name: opts.csvElsewhere ? 'text/csv on a JSON route' : 'text/csv where no CSV is accepted',
      // An edge that takes CSV on another route may parse it and refuse the string as a body.
      status: opts.csvElsewhere ? [400, 415] : 415,
      contentType: 'text/csv',
      body: () => `bsn;naam\n${S};${ACHTERNAAM}\n`,
    },
    {
      ...base,
      name: 'application/xml',
      status: 415,
      contentType: 'application/xml',
      body: () => `<bericht><bsn>${S}</bsn><naam>${ACHTERNAAM}</naam></bericht>`,
    },
    { ...base, name: 'no content type', status: [400, 415], contentType: null, body: json },
    { ...base, name: 'no key', status: 401, authorization: () => null, body: json },
    {
      ...base,
      name: 'made-up key',
      status: 401,
      authorization: () => `Bearer ${randomUUID()}${randomUUID()}`,
      body: json,
    },
    {
      ...base,
      name: 'key of another kind of partner',
      status: [401, 403],
      authorization: () => `Bearer ${otherKindKey(edge)}`,
      body: json,
    },
    {
      ...base,
      name: "Basic auth with the partner's own key",
      status: 401,
      authorization: () => `Basic ${Buffer.from(`${edge}:${ownKey(edge)}`).toString('base64')}`,
      body: json,
    },
    {
      ...base,
      name: '__proto__ in the body',
      status: 400,
      body: () => json().replace(/^\{/, '{"__proto__":{"polluted":true},'),
    },
    {
      ...base,
      name: 'constructor.prototype in the body',
      status: 400,
      body: () => json().replace(/^\{/, '{"constructor":{"prototype":{"polluted":true}},'),
    },
  ].map((c) => ({ ...c, name: `${edge} ${path}: ${c.name}` }));
}

/** An object with `n` properties the schema does not know: n violations if not capped. */
const unknownFields = (n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`onbekend${i}`, i]));

const id = () => chain.idOf(S);

function coaCases(): Case[] {
  const base = { edge: 'coa' as const, path: '/v1/koppelingen', personalData: PII };
  const k =
    (over: Record<string, unknown>, persoon: Record<string, unknown> = {}) =>
    () => {
      const body = koppeling({ koppelingId: 'KOP-H1', bsn: S });
      return JSON.stringify({ ...body, ...over, persoon: { ...body.persoon, ...persoon } });
    };
  return [
    ...bodyCases('coa', '/v1/koppelingen', () => koppeling({ koppelingId: 'KOP-H1', bsn: S }), {
      csvElsewhere: true,
    }),
    ...bodyCases('coa', '/v1/overdrachten', () => overdracht({ koppelingId: 'KOP-H1', bsn: S }), {
      csvElsewhere: true,
    }).filter((c) => !/key|auth|content type|xml|text\//.test(c.name)),
    {
      ...base,
      name: 'V-nummer 0',
      status: 400,
      error: { field: /vnummer/i },
      body: k({}, { vNummer: '0' }),
    },
    {
      ...base,
      name: 'V-nummer 0000000000',
      status: 400,
      error: { field: /vnummer/i },
      body: k({}, { vNummer: '0000000000' }),
    },
    {
      ...base,
      name: 'V-nummer of 11 digits',
      status: 400,
      error: { field: /vnummer/i },
      body: k({}, { vNummer: '44120938170' }),
    },
    {
      ...base,
      name: 'BSN failing the elfproef',
      status: 400,
      error: { field: 'persoon.bsn', rule: 'elfproef' },
      body: k({}, { bsn: BAD_BSN }),
    },
    {
      ...base,
      name: 'BSN in Arabic-Indic digits',
      status: 400,
      error: { field: 'persoon.bsn' },
      body: k({}, { bsn: '٩٩٩٩٩٠٠١٩' }),
    },
    ...['KOP.>', '*', 'KOP 1', '..', 'gm0797.>', 'KOP-2026-ΟΟ0101', 'K'.repeat(10_000)].map(
      (koppelingId): Case => ({
        ...base,
        name: `koppelingId ${JSON.stringify(koppelingId.slice(0, 20))}${koppelingId.length > 20 ? `… (${koppelingId.length})` : ''}`,
        status: 400,
        error: { field: 'koppelingId' },
        body: k({ koppelingId }),
      }),
    ),
    {
      ...base,
      name: 'gemeenteCode of a gemeente the hub does not serve',
      status: 400,
      error: { field: 'gemeenteCode', rule: 'served-gemeente' },
      body: k({ gemeenteCode: '0363' }),
    },
    {
      ...base,
      name: 'gemeenteCode with a subject wildcard',
      status: 400,
      error: { field: 'gemeenteCode' },
      body: k({ gemeenteCode: '0797.>' }),
    },
    {
      ...base,
      name: 'gemeenteCode in full-width digits',
      status: 400,
      error: { field: 'gemeenteCode' },
      body: k({ gemeenteCode: '０７９７' }),
    },
    {
      ...base,
      name: '5 000 unknown fields (errors[] capped)',
      status: 400,
      body: k(unknownFields(5000)),
    },
    {
      ...base,
      path: '/v1/overdrachten',
      name: 'overdracht with V-nummer 0',
      status: 400,
      error: { field: /vnummer/i },
      body: () => JSON.stringify(overdracht({ koppelingId: 'KOP-H1', bsn: S, vNummer: '0' })),
    },
    {
      ...base,
      path: '/v1/overdrachten',
      name: 'overdracht with a BSN failing the elfproef',
      status: 400,
      error: { field: 'persoon.bsn', rule: 'elfproef' },
      body: () => JSON.stringify(overdracht({ koppelingId: 'KOP-H1', bsn: BAD_BSN })),
    },
    {
      ...base,
      path: '/v1/tvs-export',
      name: 'TVS export sent as JSON',
      status: 415,
      body: () => JSON.stringify(koppeling({ koppelingId: 'KOP-H1', bsn: S })),
    },
    {
      ...base,
      path: '/v1/tvs-export',
      name: 'TVS export with a BSN in a broken (unterminated) cell',
      status: 400,
      contentType: 'text/csv',
      body: () => `${TVS_HEADER}\nKOP-H2;${VNR_CSV};"${S};${ACHTERNAAM}\n`,
    },
    {
      ...base,
      path: '/v1/tvs-export',
      name: 'TVS export with a BSN followed by a stray quote',
      status: 400,
      contentType: 'text/csv',
      body: () => `${TVS_HEADER}\nKOP-H3;${VNR_CSV};${S}"x;${ACHTERNAAM}\n`,
    },
    {
      ...base,
      path: '/v1/tvs-export',
      name: 'TVS export whose header is not the TVS header',
      status: 400,
      contentType: 'text/csv',
      body: () => `bsn;achternaam\n${S};${ACHTERNAAM}\n`,
    },
  ].map((c) => ({ ...c, name: c.name.startsWith('coa ') ? c.name : `coa ${c.path}: ${c.name}` }));
}

const TVS_HEADER =
  'koppeling_id;v_nummer;bsn;voornamen;achternaam;geboortedatum;geslacht;nationaliteit;geboorteland;gemeente_code;koppel_datum;vergunning_datum;azc_code;azc_naam;huishouden_id;huishouden_rol;huishouden_omvang;nareiziger';
const VNR_CSV = '4412093817';

function kvsCases(): Case[] {
  const base = { edge: 'kvs' as const, path: '/v1/events', personalData: PII };
  const valid = () => gevestigd('gm0797', id(), { bsn: S, name: 'hostile' });
  const ev = (patch: (e: Record<string, unknown>) => void) => () => {
    const e = valid() as unknown as Record<string, unknown>;
    // An id of its own per case: a case wrongly accepted must not make the next one a resend.
    e.id = randomUUID();
    patch(e);
    return JSON.stringify(e);
  };
  const data = (e: Record<string, unknown>) => e.data as Record<string, unknown>;
  const koppelingEvent = () => {
    const e = kvsEvent(
      'gm0797',
      'inburgeraar.gekoppeld',
      {
        inburgeraarId: id(),
        koppelingId: 'KOP-H4',
        koppeldatum: '2026-09-14',
        vergunningIngangsdatum: '2026-09-02',
        persoon: {
          bsn: S,
          vnummer: VNR_CSV,
          voornamen: 'Amanuel Tesfay',
          geslachtsnaam: ACHTERNAAM,
          geboortedatum: '1991-03-17',
          geslacht: 'man',
        },
        azc: { code: 'BUD', naam: 'AZC Budel-Cranendonck' },
        huishouden: { huishoudenId: 'HH-1', rol: 'hoofdpersoon', omvang: 1, nareiziger: false },
        bron: { kanaal: 'coa-json', berichtId: randomUUID() },
      },
      'h4',
    );
    return JSON.stringify(e);
  };
  return [
    ...bodyCases('kvs', '/v1/events', valid),
    {
      ...base,
      name: "gm0796's key acting for gm0797",
      status: 403,
      error: { field: 'gemeente', rule: 'credential-scope' },
      authorization: () => `Bearer ${chain.keys.kvs.gm0796}`,
      body: () => JSON.stringify(valid()),
    },
    {
      ...base,
      name: "gm0796's key for an event of gm0797 about gm0797's person (ontzorgen, IBAN)",
      status: 403,
      error: { field: 'gemeente', rule: 'credential-scope' },
      authorization: () => `Bearer ${chain.keys.kvs.gm0796}`,
      body: () => JSON.stringify(aanvraag('gm0797', id(), 'OZ-S', { name: 'h-other' })),
    },
    {
      ...base,
      name: 'data.gemeenteCode of another gemeente than the event',
      status: 400,
      error: { field: 'data.gemeenteCode', rule: 'equals gemeente' },
      body: ev((e) => (data(e).gemeenteCode = 'gm0796')),
    },
    {
      ...base,
      name: 'no gemeente extension',
      status: 400,
      error: { field: 'gemeente' },
      body: ev((e) => delete e.gemeente),
    },
    ...['gm0797.>', '*', 'gm0797 ', 'gm０７９７', 'gm0797.pip'].map((gemeente): Case => ({
      ...base,
      name: `gemeente ${JSON.stringify(gemeente)}`,
      status: 400,
      error: { field: 'gemeente' },
      body: ev((e) => {
        e.gemeente = gemeente;
        data(e).gemeenteCode = gemeente;
      }),
    })),
    {
      ...base,
      name: 'a type a KVS may not send (inburgeraar.gekoppeld)',
      status: 403,
      error: { field: 'type', rule: 'policy levert' },
      body: koppelingEvent,
    },
    ...[
      'nl.inburgering.onbekend.iets',
      'nl.inburgering.pip.vastgesteld.>',
      'nl.inburgering.*.vastgesteld',
      'nl.inburgering.pip..vastgesteld',
    ].map((type): Case => ({
      ...base,
      name: `type ${JSON.stringify(type)}`,
      status: 400,
      error: { field: 'type' },
      body: ev((e) => (e.type = type)),
    })),
    ...['gm0797.>', '*', 'a b', '..', `${UUID}.>`, `${UUID}\n`, 'x'.repeat(10_000)].map(
      (eventId): Case => ({
        ...base,
        name: `event id ${JSON.stringify(eventId.slice(0, 40))}${eventId.length > 40 ? `… (${eventId.length})` : ''}`,
        status: 400,
        error: { field: 'id' },
        body: ev((e) => (e.id = eventId)),
      }),
    ),
    ...(
      [
        ['"ih-*"', () => 'ih-*'],
        ['in full-width digits', () => 'ih-０１２３４５６７８９abcdef0123456789abcdef'],
        ["of the person followed by '.>'", () => `${id()}.>`],
        ['in upper case', () => id().toUpperCase()],
        ['of 10 000 characters', () => `ih-${'a'.repeat(10_000)}`],
      ] as const
    ).map(([label, value]): Case => ({
      ...base,
      name: `inburgeraarId ${label}`,
      status: 400,
      error: { field: 'data.inburgeraarId' },
      body: ev((e) => (data(e).inburgeraarId = value())),
    })),
    {
      ...base,
      name: 'vestiging with a BSN failing the elfproef',
      status: 400,
      error: { field: 'data.bsn', rule: 'elfproef' },
      body: ev((e) => (data(e).bsn = BAD_BSN)),
    },
    {
      ...base,
      name: 'ontzorgen with an IBAN failing its check digits',
      status: 400,
      error: { field: /iban/ },
      body: () => JSON.stringify(aanvraag('gm0797', id(), 'OZ-H', { iban: BAD_IBAN })),
    },
    ...['OZ.>', '*', 'OZ 1', '..'].map((trajectId): Case => ({
      ...base,
      name: `trajectId ${JSON.stringify(trajectId)}`,
      status: 400,
      error: { field: 'data.trajectId' },
      body: () =>
        JSON.stringify(
          kvsEvent(
            'gm0797',
            'ontzorgen.beeindiging-aangevraagd',
            { inburgeraarId: id(), trajectId, datum: '2027-01-31', reden: 'overig' },
            `beeindiging:${trajectId}`,
          ),
        ),
    })),
    {
      ...base,
      name: 'a subject attribute (may carry no personal data)',
      status: 400,
      error: { field: 'subject' },
      body: ev((e) => (e.subject = S)),
    },
    {
      ...base,
      name: '__proto__ inside data',
      status: 400,
      body: () =>
        JSON.stringify(valid()).replace('"data":{', '"data":{"__proto__":{"polluted":true},'),
    },
    {
      ...base,
      name: '5 000 unknown fields in data (errors[] capped)',
      status: 400,
      body: ev((e) => Object.assign(data(e), unknownFields(5000))),
    },
    {
      ...base,
      name: 'an event under the HTTP limit but over the stream maximum (80 KB)',
      status: 413,
      body: ev((e) => {
        for (let i = 0; i < 6; i++) e[`opvulling${i}`] = 'x'.repeat(20_000);
      }),
    },
  ].map((c) => ({ ...c, name: c.name.startsWith('kvs ') ? c.name : `kvs ${c.path}: ${c.name}` }));
}

function duoCases(): Case[] {
  const base = {
    edge: 'duo' as const,
    path: '/v1/notificaties',
    personalData: PII,
    headers: duoHeaders,
  };
  const body = (opts: Parameters<typeof notificatie>[0]) => () => JSON.stringify(notificatie(opts));
  const withHeaders = (over: Record<string, string | string[] | undefined>) => () => {
    const h: Record<string, string | string[]> = duoHeaders();
    for (const [k, v] of Object.entries(over)) {
      if (v === undefined) delete h[k];
      else h[k] = v;
    }
    return h;
  };
  return [
    ...bodyCases('duo', '/v1/notificaties', () => notificatie({ bsn: S })).map((c) => ({
      ...c,
      headers: duoHeaders,
    })),
    {
      ...base,
      name: 'no bron header',
      status: 400,
      error: { field: 'header.bron' },
      headers: withHeaders({ bron: undefined }),
      body: body({ bsn: S }),
    },
    {
      ...base,
      name: "bron is a gemeente's OIN, not DUO's",
      status: 403,
      error: { field: 'header.bron' },
      headers: withHeaders({ bron: oinOf('gm0797') }),
      body: body({ bsn: S }),
    },
    {
      ...base,
      name: 'no doel header',
      status: 400,
      error: { field: 'header.doel' },
      headers: withHeaders({ doel: undefined }),
      body: body({ bsn: S }),
    },
    {
      ...base,
      name: 'doel of a gemeente the hub does not serve',
      status: 403,
      error: { field: 'header.doel' },
      headers: withHeaders({ doel: '00000001000363000000' }),
      body: body({ bsn: S }),
    },
    {
      ...base,
      name: "doel is DUO's own OIN",
      status: 403,
      error: { field: 'header.doel' },
      headers: withHeaders({ doel: DUO_OIN }),
      body: body({ bsn: S }),
    },
    {
      ...base,
      name: "doel with the letter O for zeros (a lookalike of gm0797's OIN)",
      status: 400,
      error: { field: 'header.doel' },
      headers: withHeaders({ doel: oinOf('gm0797').replace(/0/g, 'O') }),
      body: body({ bsn: S }),
    },
    {
      ...base,
      name: 'doel twice (two gemeenten)',
      status: 400,
      error: { field: 'header.doel' },
      headers: withHeaders({ doel: [oinOf('gm0797'), oinOf('gm0796')] }),
      body: body({ bsn: S }),
    },
    ...['not-a-uuid', 'gm0797.>', '*', `${UUID}.>`, `${UUID}${'0'.repeat(5000)}`].map(
      (berichtId): Case => ({
        ...base,
        name: `berichtId ${JSON.stringify(berichtId.slice(0, 40))}${berichtId.length > 40 ? '…' : ''}`,
        status: 400,
        error: { field: /^header\.bericht[iI]d$/ },
        headers: withHeaders({ berichtid: berichtId }),
        body: body({ bsn: S }),
      }),
    ),
    {
      ...base,
      name: 'V-nummer 0',
      status: 400,
      error: { field: /vnummer/i },
      body: body({ vNummer: 0 }),
    },
    {
      ...base,
      name: 'V-nummer -1',
      status: 400,
      error: { field: /vnummer/i },
      body: body({ vNummer: -1 }),
    },
    {
      ...base,
      name: 'V-nummer of 11 digits',
      status: 400,
      error: { field: /vnummer/i },
      body: body({ vNummer: 44120938170 }),
    },
    {
      ...base,
      name: 'V-nummer as a string',
      status: 400,
      error: { field: /vnummer/i },
      body: body({ vNummer: VNR_CSV }),
    },
    {
      ...base,
      name: 'BSN failing the elfproef',
      status: 400,
      error: { field: 'bsn', rule: 'elfproef' },
      body: body({ bsn: BAD_BSN }),
    },
    {
      ...base,
      name: 'BSN in Arabic-Indic digits',
      status: 400,
      error: { field: 'bsn' },
      body: body({ bsn: '٩٩٩٩٩٠٠١٩' }),
    },
    {
      ...base,
      name: 'gebeurtenisId with a subject wildcard',
      status: 400,
      error: { field: 'gebeurtenisId' },
      body: () => JSON.stringify({ ...notificatie({ bsn: S }), gebeurtenisId: 'SS1.>' }),
    },
    {
      ...base,
      name: 'neither BSN nor V-nummer',
      status: 400,
      error: { field: 'bsn' },
      body: body({}),
    },
  ].map((c) => ({ ...c, name: c.name.startsWith('duo ') ? c.name : `duo ${c.path}: ${c.name}` }));
}

function kredietbankCases(): Case[] {
  const base = { edge: 'kredietbank' as const, path: '/v1/webhooks', personalData: PII };
  const hook = (over: Record<string, unknown>) => () =>
    JSON.stringify({ ...webhook({ referentie: 'OZ-S' }), ...over });
  const depth = 100_000;
  return [
    ...bodyCases('kredietbank', '/v1/webhooks', () => webhook({ referentie: 'OZ-S' })),
    {
      ...base,
      name: `gegevens nested ${depth} levels deep`,
      status: 400,
      body: () =>
        JSON.stringify(webhook({ referentie: 'OZ-S' })).replace(
          /"gegevens":\{[^}]*\}/,
          `"gegevens":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
        ),
    },
    {
      ...base,
      name: "gm0797's traject claimed for gm0796",
      status: 400,
      error: { field: 'referentie', rule: 'known traject' },
      body: hook({ gemeentecode: '0796' }),
    },
    {
      ...base,
      name: 'a gemeente the hub does not serve',
      status: 403,
      error: { field: 'gemeentecode' },
      body: hook({ gemeentecode: '0363' }),
    },
    ...['0797.>', '*', '٠٧٩٧'].map((gemeentecode): Case => ({
      ...base,
      name: `gemeentecode ${JSON.stringify(gemeentecode)}`,
      status: 400,
      error: { field: 'gemeentecode' },
      body: hook({ gemeentecode }),
    })),
    ...['OZ-S.>', '*', 'OZ S', '..', 'O'.repeat(10_000)].map((referentie): Case => ({
      ...base,
      name: `referentie ${JSON.stringify(referentie.slice(0, 20))}${referentie.length > 20 ? '…' : ''}`,
      status: 400,
      error: { field: 'referentie' },
      body: hook({ referentie }),
    })),
    {
      ...base,
      name: 'webhook id not a UUID',
      status: 400,
      error: { field: 'id' },
      body: hook({ id: 'kredietbank.>' }),
    },
    {
      ...base,
      name: '5 000 unknown fields (errors[] capped)',
      status: 400,
      body: hook(unknownFields(5000)),
    },
  ].map((c) => ({
    ...c,
    name: c.name.startsWith('kredietbank ') ? c.name : `kredietbank ${c.path}: ${c.name}`,
  }));
}

function schoolCases(): Case[] {
  const base = { edge: 'school' as const, path: '/v1/uren', personalData: PII };
  return [
    ...bodyCases('school', '/v1/uren', () => uren(zuidTraject), { csvElsewhere: true }),
    ...bodyCases('school', '/v1/voortgang', () => uren(zuidTraject), {
      csvElsewhere: true,
    }).filter((c) => /null|array|malformed|nested|proto/.test(c.name)),
    ...bodyCases('school', '/v1/verzuim', () => uren(zuidTraject), {
      csvElsewhere: true,
    }).filter((c) => /null|array|malformed|nested|proto/.test(c.name)),
    {
      ...base,
      name: "taalschool-noord reporting hours on taalschool-zuid's traject",
      status: 400,
      error: { field: 'trajectId', rule: 'known traject' },
      body: () => JSON.stringify(uren(zuidTraject)),
    },
    {
      ...base,
      path: '/v1/verzuim',
      name: "taalschool-noord reporting absence on taalschool-zuid's traject",
      status: 400,
      error: { field: 'trajectId', rule: 'known traject' },
      body: () =>
        JSON.stringify({
          trajectId: zuidTraject,
          datum: '2026-11-20',
          urenGemist: 2,
          reden: 'ziek',
        }),
    },
    ...['tr-*', 'tr-.>', '..', `${'tr-'}${'０'.repeat(32)}`, `tr-${'a'.repeat(10_000)}`].map(
      (trajectId): Case => ({
        ...base,
        name: `trajectId ${JSON.stringify(trajectId.slice(0, 20))}${trajectId.length > 20 ? '…' : ''}`,
        status: 400,
        error: { field: 'trajectId' },
        body: () => JSON.stringify(uren(trajectId)),
      }),
    ),
    {
      ...base,
      path: '/v1/voortgang',
      name: '5 000 unknown fields (errors[] capped)',
      status: 400,
      body: () => JSON.stringify({ ...uren(zuidTraject), ...unknownFields(5000) }),
    },
    {
      ...base,
      path: '/v1/uren.csv',
      name: 'hours CSV sent as JSON',
      status: 415,
      body: () => JSON.stringify(uren(zuidTraject)),
    },
    {
      ...base,
      path: '/v1/uren.csv',
      name: 'hours CSV with a BSN in a broken (unterminated) cell',
      status: 400,
      contentType: 'text/csv',
      body: () => `traject_id;peildatum;uren_totaal;soort\n"${S};01-12-2026;48;\n`,
    },
    {
      ...base,
      path: '/v1/uren.csv',
      name: 'hours CSV with a BSN followed by a stray quote',
      status: 400,
      contentType: 'text/csv',
      body: () => `traject_id;peildatum;uren_totaal;soort\n${zuidTraject};${S}"x;48;\n`,
    },
  ].map((c) => ({
    ...c,
    name: c.name.startsWith('school ') ? c.name : `school ${c.path}: ${c.name}`,
  }));
}

function adminCases(): Case[] {
  const base = { edge: 'admin' as const, path: '/api/inzage', personalData: PII };
  const get = (path: string, name: string, expected: Expected, key?: () => string): Case => ({
    ...base,
    ...expected,
    name,
    method: 'GET',
    path,
    contentType: null,
    ...(key ? { authorization: key } : {}),
  });
  const replay = (name: string, body: unknown, expected: Expected, key?: () => string): Case => ({
    ...base,
    ...expected,
    name,
    path: '/api/dead-letters/replay',
    body: () => JSON.stringify(body),
    ...(key ? { authorization: key } : {}),
  });
  const fg = () => `Bearer ${chain.keys.admin.gm0796}`;
  return [
    ...bodyCases('admin', '/api/inzage', () => ({ bsn: S })),
    {
      ...base,
      name: 'inzage with a BSN failing the elfproef',
      status: 400,
      error: { field: 'bsn', rule: 'elfproef' },
      body: () => JSON.stringify({ bsn: BAD_BSN }),
    },
    {
      ...base,
      name: 'inzage with BSN in Arabic-Indic digits',
      status: 400,
      error: { field: 'bsn' },
      body: () => JSON.stringify({ bsn: '٩٩٩٩٩٠٠١٩' }),
    },
    {
      ...base,
      name: 'inzage with V-nummer 0',
      status: 400,
      error: { field: 'vnummer' },
      body: () => JSON.stringify({ vnummer: '0' }),
    },
    {
      ...base,
      name: 'inzage for gemeente "gm0797.>"',
      status: 400,
      error: { field: 'gemeente' },
      body: () => JSON.stringify({ bsn: S, gemeente: 'gm0797.>' }),
    },
    {
      ...base,
      name: "gm0796's privacy officer asking gm0797's inzage",
      status: 403,
      error: { field: 'gemeente', rule: 'credential-scope' },
      authorization: fg,
      body: () => JSON.stringify({ bsn: S, gemeente: 'gm0797' }),
    },
    {
      ...base,
      name: 'inzage with an unknown field',
      status: 400,
      body: () => JSON.stringify({ bsn: S, alles: true }),
    },
    {
      ...base,
      name: '5 000 unknown fields (errors[] capped)',
      status: 400,
      body: () => JSON.stringify({ bsn: S, ...unknownFields(5000) }),
    },
    get('/api/dead-letters?gemeente=gm0797.%3E', 'dead letters of gemeente "gm0797.>"', {
      status: 400,
      error: { field: /gemeente/ },
    }),
    get('/api/dead-letters?service=*', 'dead letters of service "*"', {
      status: 400,
      error: { field: /service/ },
    }),
    get('/api/dead-letters?type=..', 'dead letters of type ".."', {
      status: 400,
      error: { field: /type/ },
    }),
    get('/api/dead-letters?partner=a%20b', 'dead letters of partner "a b"', {
      status: 400,
      error: { field: /partner/ },
    }),
    get('/api/dead-letters?__proto__=x', 'dead letters with a __proto__ query', {
      status: 400,
    }),
    get(
      '/api/dead-letters?gemeente=gm0797',
      "gm0796's privacy officer listing gm0797's dead letters",
      { status: 403, error: { field: 'gemeente', rule: 'credential-scope' } },
      fg,
    ),
    ...['0', 'abc', '99999999999999999999', '1.%3E', '-1', '%2A'].map((seq) =>
      get(`/api/dead-letters/${seq}`, `dead letter "${decodeURIComponent(seq)}"`, {
        status: 400,
        error: { field: /seq/ },
      }),
    ),
    replay(
      'replay of 2 000 seqs',
      { seqs: Array.from({ length: 2000 }, (_, i) => i + 1) },
      {
        status: 400,
        error: { field: /seqs/ },
      },
    ),
    replay('replay of seqs as strings', { seqs: ['1'] }, { status: 400, error: { field: /seqs/ } }),
    replay('replay of nothing', {}, { status: 400, error: { field: 'seqs' } }),
    replay(
      'replay of seqs and all at once',
      { seqs: [1], all: true },
      {
        status: 400,
        error: { field: 'seqs' },
      },
    ),
    replay(
      "gm0796's privacy officer replaying gm0797's dead letters",
      { gemeente: 'gm0797' },
      { status: 403, error: { field: 'gemeente', rule: 'credential-scope' } },
      fg,
    ),
    {
      ...base,
      name: 'DELETE on the alerts',
      method: 'DELETE' as const,
      path: '/api/alerts',
      status: [404, 405],
      contentType: null,
    },
  ].map((c) => ({
    ...c,
    name: c.name.startsWith('admin ') ? c.name : `admin ${c.path}: ${c.name}`,
  }));
}

/** Built lazily: some cases need what beforeAll set up (the traject, the pseudonym). */
const tables: Record<string, () => Case[]> = {
  'COA API': coaCases,
  'KVS inbound API': kvsCases,
  'DUO Notificatie API': duoCases,
  'Kredietbank webhooks': kredietbankCases,
  'school API': schoolCases,
  'admin API': adminCases,
};

/**
 * Names only, for it.each; the case itself is built again when it runs. Listing calls no body
 * function, so it needs no chain.
 */
function names(table: () => Case[]): string[] {
  return table().map((c) => c.name);
}

async function run(c: Case) {
  const headers = new Headers();
  const authorization = c.authorization ? c.authorization() : `Bearer ${ownKey(c.edge)}`;
  if (authorization !== null) headers.set('authorization', authorization);
  for (const [k, v] of Object.entries(c.headers?.() ?? {})) {
    for (const value of Array.isArray(v) ? v : [v]) headers.append(k, value);
  }
  const text = c.body?.();
  if (c.contentType !== null && text !== undefined) {
    headers.set('content-type', c.contentType ?? 'application/json');
  }
  return call({
    method: c.method ?? 'POST',
    url: `${chain.edges[c.edge]}${c.path}`,
    headers,
    // Bytes, so fetch adds no content type of its own when the case sends none.
    ...(text !== undefined ? { body: Buffer.from(text) } : {}),
  });
}

let startCounts: PartnerCounts;

describe('hostile input at every edge', () => {
  beforeAll(() => {
    startCounts = partnerCounts(chain);
  });

  for (const [edge, table] of Object.entries(tables)) {
    describe(edge, () => {
      it.each(names(table))('%s', async (name) => {
        const c = table().find((x) => x.name === name)!;
        const seq = await ketenLastSeq(chain);
        const before = partnerCounts(chain);
        const answer = await run(c);
        expectProblem(answer, c);
        // Refused means refused: nothing stored, so nothing can reach a partner later either.
        expect(await ketenLastSeq(chain), 'a message was stored in KETEN').toBe(seq);
        expect(partnerCounts(chain)).toEqual(before);
      });
    });
  }

  it('has at least 100 cases, each named once, and no partner received anything', async () => {
    const all = Object.values(tables).flatMap(names);
    expect(all.length).toBeGreaterThanOrEqual(100);
    expect(new Set(all).size).toBe(all.length);
    await new Promise((r) => setTimeout(r, 1500));
    expect(partnerCounts(chain)).toEqual(startCounts);
  });
});

describe('over-long CSV rows', () => {
  const long = 'A'.repeat(2 * 1024 * 1024);
  const rows: Case[] = [
    {
      name: 'TVS export with a name of 2 MiB',
      edge: 'coa',
      path: '/v1/tvs-export',
      status: [400, 413],
      contentType: 'text/csv',
      body: () =>
        `${TVS_HEADER}\nKOP-H5;${VNR_CSV};${S};Amanuel;${long};17-03-1991;M;Eritrese;Eritrea;0797;14-09-2026;02-09-2026;BUD;AZC;HH-1;HOOFDPERSOON;1;N\n`,
    },
    {
      name: 'TVS export with a row of 20 000 cells',
      edge: 'coa',
      path: '/v1/tvs-export',
      status: [400, 413],
      contentType: 'text/csv',
      body: () => `${TVS_HEADER}\n${Array.from({ length: 20_000 }, () => S).join(';')}\n`,
    },
    {
      name: 'hours CSV with a traject id of 2 MiB',
      edge: 'school',
      path: '/v1/uren.csv',
      status: [400, 413],
      contentType: 'text/csv',
      body: () => `traject_id;peildatum;uren_totaal;soort\ntr-${long};01-12-2026;48;${S}\n`,
    },
  ];

  // Either the file is refused (a problem), or the row is: the per-row report of these routes
  // names it with field and rule. Never a 5xx, never the cell's content, nothing stored.
  it.each(rows.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const seq = await ketenLastSeq(chain);
    const before = partnerCounts(chain);
    const answer = await run(c);
    if (answer.status >= 400) {
      expectProblem(answer, { ...c, personalData: PII });
    } else {
      expect(answer.status, answer.text.slice(0, 300)).toBe(200);
      const report = answer.json as {
        accepted: unknown[];
        rejected: { row: number; field: string; rule: string }[];
      };
      expect(report.accepted).toEqual([]);
      expect(report.rejected).toContainEqual(
        expect.objectContaining({ row: 2, field: expect.any(String), rule: expect.any(String) }),
      );
      expect(answer.text.length).toBeLessThan(64 * 1024);
      for (const value of PII) expect(answer.text.includes(value), value).toBe(false);
    }
    expect(await ketenLastSeq(chain)).toBe(seq);
    expect(partnerCounts(chain)).toEqual(before);
  });
});

describe('a flood of made-up keys', () => {
  /** Hundreds of requests with made-up keys at once, and a valid key not used before among them. */
  async function flood(edge: Edge, path: string, valid: () => Promise<number>, method = 'POST') {
    const made = Array.from({ length: 400 }, () =>
      call({
        method,
        url: `${chain.edges[edge]}${path}`,
        headers: {
          authorization: `Bearer ${randomUUID()}${randomUUID()}`,
          ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
        },
        ...(method === 'POST' ? { body: '{}' } : {}),
      }),
    );
    // The valid calls go out while the made-up ones are being verified.
    await new Promise((r) => setTimeout(r, 20));
    const validStatuses = await Promise.all([valid(), valid(), valid()]);
    const refused = await Promise.all(made);
    return { validStatuses, refused };
  }

  it("does not lock gm0865's KVS out of the KVS inbound API (a key not verified before)", async () => {
    const bsn = testBsns.r;
    const event = gevestigd('gm0865', chain.idOf(bsn), { bsn, name: 'flood' });
    const { validStatuses, refused } = await flood('kvs', '/v1/events', async () => {
      const res = await fetch(`${chain.edges.kvs}/v1/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${chain.keys.kvs.gm0865}`,
        },
        body: JSON.stringify(event),
      });
      return res.status;
    });
    expect(validStatuses).toEqual([202, 202, 202]);
    for (const r of refused) expectProblem(r, { status: 401 });
  });

  it("does not lock gm0865's privacy officer out of the admin API (a key not verified before)", async () => {
    const { validStatuses, refused } = await flood(
      'admin',
      '/api/alerts',
      async () =>
        (
          await fetch(`${chain.edges.admin}/api/alerts`, {
            headers: { authorization: `Bearer ${chain.keys.admin.gm0865}` },
          })
        ).status,
      'GET',
    );
    expect(validStatuses).toEqual([200, 200, 200]);
    for (const r of refused) expectProblem(r, { status: 401 });
  });
});

it('every service and simulator is healthy afterwards', async () => {
  await expectServicesHealthy(chain);
  expect((await fetch(`${chain.sims.kvs.url}/health`)).status).toBe(200);
  for (const url of [
    chain.sims.duo.url,
    chain.sims.kredietbank.url,
    ...Object.values(chain.sims.schools).map((x) => x.url),
  ]) {
    expect((await fetch(`${url}/_sim/stats`)).status, url).toBe(200);
  }
  // The edges still answer a valid request.
  const res = await post('kvs', '/v1/events', gevestigd('gm0797', id(), { bsn: S, name: 'na' }));
  expect(res.status).toBe(202);
});
