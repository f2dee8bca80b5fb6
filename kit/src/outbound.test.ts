import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { JsMsg } from '@nats-io/jetstream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventDataArbitrary } from '@ketenhub/contracts/testing';
import { buildEvent } from './events.ts';
import { createLogger } from './log.ts';
import {
  organisationFor,
  outboundDelivery,
  routeByGemeente,
  type ChainEvent,
  type OutboundDelivery,
} from './outbound.ts';
import { createPartnerClient, type PartnerClient } from './partner-client.ts';
import { createProjector } from './policy.ts';
import type { ProcessingLog, ProcessingRecord } from './processing-log.ts';
import { describeChainEventFor } from './run-service.ts';

const ORGANISATIONS = [
  { id: 'noord', gemeenten: ['gm0797', 'gm0865'] },
  { id: 'zuid', gemeenten: ['gm0796', 'gm0797'] },
];

describe('organisationFor', () => {
  const rule = (id?: string) => ({ what: 'kantoor', named: { field: 'data.kantoor', id } });

  it('without a name, the first one contracted by the gemeente', () => {
    expect(organisationFor(ORGANISATIONS, 'gm0797', rule())).toEqual({ organisation: 'noord' });
    expect(organisationFor(ORGANISATIONS, 'gm0796', { what: 'kantoor' })).toEqual({
      organisation: 'zuid',
    });
  });

  it('the one named, when the gemeente contracted it; else refused naming the field', () => {
    expect(organisationFor(ORGANISATIONS, 'gm0797', rule('zuid'))).toEqual({
      organisation: 'zuid',
    });
    for (const named of ['zuid', 'elders']) {
      expect(organisationFor(ORGANISATIONS, 'gm0865', rule(named))).toEqual({
        refused: {
          field: 'data.kantoor',
          rule: 'contracted for the gemeente',
          message: `${named} is not a kantoor contracted by gm0865`,
        },
      });
    }
  });

  it('refuses a gemeente no organisation is contracted by, naming the rule', () => {
    expect(organisationFor(ORGANISATIONS, 'gm0363', rule())).toEqual({
      refused: {
        field: 'gemeente',
        rule: 'a kantoor contracted for the gemeente',
        message: 'no kantoor is contracted by gm0363',
      },
    });
  });
});

/** The recipe with a real policy (VluchtelingenWerk's), a real partner client and HTTP server. */
const PARTNER = 'vluchtelingenwerk';
const TYPE = 'nl.inburgering.begeleiding.aangevraagd';
type Aanvraag = { inburgeraarId: string; aanvraagId: string; gemeenteCode: string };

interface Seen {
  url: string;
  headers: IncomingMessage['headers'];
  body: { id: string; pseudoniem: string; gemeenteCode?: string; inburgeraarId?: string };
}
let server: Server;
let baseURL: string;
let seen: Seen[];
/** What happened, in order: records written, calls received, pseudonyms remembered. */
let steps: string[];

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      steps.push('call');
      seen.push({ url: req.url ?? '', headers: req.headers, body: JSON.parse(text) as never });
      res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const logger = createLogger('outbound-test', { level: 'silent' });
let records: Omit<ProcessingRecord, 'tijdstip'>[];
let logFails: boolean;
const processingLog: ProcessingLog = {
  async record(rec) {
    if (logFails) throw new Error('processing log down');
    steps.push(`log ${rec.status}`);
    records.push(rec);
  },
};
let remembered: Map<string, { inburgeraarId: string; organisation: string }>;
let clients: PartnerClient[] = [];
beforeEach(() => {
  seen = [];
  steps = [];
  records = [];
  logFails = false;
  remembered = new Map();
  for (const c of clients) c.shutdown();
  clients = [];
});

const [sampled] = fc.sample(eventDataArbitrary<Aanvraag>(TYPE), { numRuns: 1, seed: 7 });

const OTHER = 'nl.inburgering.begeleiding.gestart';
const [other] = fc.sample(eventDataArbitrary<Aanvraag>(OTHER), { numRuns: 1, seed: 7 });

/** A person's id, as the schema has it. */
const ih = (n: number) => `ih-${String(n).padStart(32, '0')}`;

function message(gemeente: string, type = TYPE, n = 1): JsMsg {
  const event = buildEvent<Aanvraag>({
    id: `4b3c2a1e-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type,
    source: 'urn:nld:oin:00000001234567890000:systeem:gemeente-kvs',
    gemeente,
    data: {
      ...(type === TYPE ? sampled! : other!),
      inburgeraarId: ih(n),
      ...(type === TYPE ? { aanvraagId: `A-${n}` } : {}),
      gemeenteCode: gemeente,
    },
  });
  return {
    subject: `keten.${gemeente}.${type.split('.').slice(2).join('.')}`,
    headers: undefined,
    info: { deliveryCount: 1 },
    json: () => structuredClone(event),
  } as unknown as JsMsg;
}

/** One consumer per organisation, each with its own client, as a module starts them. */
function consumers(over: Partial<OutboundDelivery<Aanvraag, object>> = {}) {
  return ORGANISATIONS.map((o) => {
    const client = createPartnerClient({
      partner: PARTNER,
      endpoint: o.id,
      baseURL,
      logger,
    });
    clients.push(client);
    return outboundDelivery<Aanvraag, object>(
      {
        type: TYPE,
        partner: PARTNER,
        organisation: o.id,
        routing: routeByGemeente(ORGANISATIONS, { what: 'kantoor', of: 'aanvraag' }),
        pseudonym: (e: ChainEvent<Aanvraag>) => `ps-${o.id}-${e.data.inburgeraarId}`,
        idFor: (scoped, organisation) => `${organisation}:${scoped}`,
        // The projection only: the policy keeps inburgeraarId and aanvraagId in the hub.
        translate: (data, ids) => ({ ...data, id: ids.id, pseudoniem: ids.pseudonym }),
        remember: async (pseudonym, e) => {
          steps.push('remember');
          remembered.set(pseudonym, { inburgeraarId: e.data.inburgeraarId, organisation: o.id });
        },
        url: '/aanvragen',
        ...over,
      },
      { client, projector: createProjector(PARTNER), processingLog, logger },
    );
  });
}

describe('outboundDelivery', () => {
  it("sends an event to its gemeente's organisation only: pseudonym remembered, logged, then POSTed once", async () => {
    const [noord, zuid] = consumers();
    const m = message('gm0796');
    expect(await noord!(m)).toBe('skipped');
    expect(await zuid!(m)).toBe('delivered');

    expect(steps).toEqual(['remember', 'log gestart', 'call', 'log verstrekt']);
    expect(remembered.get(`ps-zuid-${ih(1)}`)).toEqual({
      inburgeraarId: ih(1),
      organisation: 'zuid',
    });
    expect(seen).toHaveLength(1);
    const [call] = seen;
    expect(call!.url).toBe('/aanvragen');
    expect(call!.body.pseudoniem).toBe(`ps-zuid-${ih(1)}`);
    expect(call!.headers['idempotency-key']).toBe(call!.body.id);
    expect(call!.body.id).toMatch(/^zuid:/);
    // What the policy keeps in the hub does not leave it.
    expect(call!.body.inburgeraarId).toBeUndefined();
    expect(call!.body.gemeenteCode).toBe('gm0796');
    expect(records[0]).toMatchObject({
      ontvanger: { partner: PARTNER, endpoint: 'zuid' },
      betrokkene: ih(1),
      gemeente: 'gm0796',
      eventType: TYPE,
      status: 'gestart',
    });
    expect(records[0]!.categorieen).toContain('pseudoniem');
    expect(call!.headers.traceparent).toContain(records[0]!.traceId);
  });

  it('skips other types; refuses a gemeente no organisation serves once, by the first consumer', async () => {
    const [noord, zuid] = consumers();
    expect(await noord!(message('gm0797', OTHER))).toBe('skipped');
    const m = message('gm0363');
    expect(await zuid!(m)).toBe('skipped');
    await expect(noord!(m)).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'no kantoor for this aanvraag',
      field: 'gemeente',
      rule: 'a kantoor contracted for the gemeente',
    });
    expect(seen).toEqual([]);
    expect(remembered.size).toBe(0);
  });

  it('fails closed: without a processing-log record, no call', async () => {
    const [noord] = consumers();
    logFails = true;
    await expect(noord!(message('gm0865'))).rejects.toThrow('processing log down');
    expect(seen).toEqual([]);
  });

  it('runs the check before anything is remembered, and `delivered` after the call', async () => {
    const after: string[] = [];
    const [noord] = consumers({
      check: async (e) => {
        if (e.data.inburgeraarId === ih(2)) throw new Error('not of this gemeente');
      },
      delivered: async (e, traceparent) => {
        steps.push('delivered');
        after.push(`${e.data.inburgeraarId} ${traceparent}`);
      },
    });
    await expect(noord!(message('gm0865', TYPE, 2))).rejects.toThrow('not of this gemeente');
    expect(remembered.size).toBe(0);
    expect(await noord!(message('gm0865', TYPE, 3))).toBe('delivered');
    expect(steps).toEqual(['remember', 'log gestart', 'call', 'log verstrekt', 'delivered']);
    expect(after).toEqual([`${ih(3)} ${seen[0]!.headers.traceparent}`]);
  });

  it('describes a dead letter by the chain event and the partner contract', () => {
    const describe = describeChainEventFor('https://contracts.ketenhub.nl/x.schema.json');
    expect(describe(message('gm0797'))).toEqual({
      eventId: '4b3c2a1e-0000-4000-8000-000000000001',
      eventType: TYPE,
      gemeente: 'gm0797',
      schemaId: 'https://contracts.ketenhub.nl/x.schema.json',
    });
  });
});
