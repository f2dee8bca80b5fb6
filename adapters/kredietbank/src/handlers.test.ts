import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { JsMsg } from '@nats-io/jetstream';
import type {
  HuurcontractGetekend,
  OntzorgenBeeindigingAangevraagd,
  PipVastgesteld,
} from '@ketenhub/contracts/generated';
import type { KredietbankAntwoord } from '@ketenhub/contracts/generated/kredietbank';
import {
  InfrastructureError,
  PartnerRejectedError,
  buildEvent,
  createLogger,
  PARTNER_HEADER,
  nameBasedUuid,
  scopedEventId,
} from '@ketenhub/kit';
import { createProjector, type ProcessingRecord } from '@ketenhub/kit/privacy';
import {
  createBeeindigingHandler,
  createHuurcontractHandler,
  createPipHandler,
  type KredietbankTrajectDeps,
} from './handlers.ts';
import type { KredietbankClient } from './kredietbank-client.ts';
import type { TrajectLink } from './trajecten.ts';

/**
 * The beeindiging and PIP handlers with in-memory stand-ins for the Kredietbank client, the
 * traject store and the processing log: what is sent, what is logged, and which failures are
 * retried (nak) or dead-lettered. The real thing runs in test/e2e/kredietbank.int.test.ts.
 */

const golden = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../fixtures/golden/${name}`, import.meta.url), 'utf8'),
  ) as unknown;
const BEEINDIGING = golden('beeindiging.event.json') as OntzorgenBeeindigingAangevraagd;
const PIP = golden('pip-ontzorgen.event.json') as PipVastgesteld;
const LEASE = golden('huurcontract.event.json') as HuurcontractGetekend;
const ID = BEEINDIGING.inburgeraarId;
const EVENT_ID = '6e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';
/** The idempotency key of the call: from the event id scoped to the KVS of gm0797. */
const CALL_KEY = nameBasedUuid(
  `kredietbank:call:${scopedEventId('gemeente-kvs', 'gm0797', EVENT_ID)}`,
);

function msg(type: string, data: unknown, gemeente = 'gm0797', subjectGemeente = gemeente): JsMsg {
  const event = buildEvent({
    id: EVENT_ID,
    type,
    source: 'urn:nld:oin:00000001000797000000:systeem:suite4sd',
    gemeente,
    data,
  });
  return {
    subject: `keten.${subjectGemeente}.${type.replace('nl.inburgering.', '')}`,
    headers: { get: (name: string) => (name === PARTNER_HEADER ? 'gemeente-kvs' : '') },
    json: () => structuredClone(event),
  } as unknown as JsMsg;
}

type Call = { op: 'end' | 'looptijd' | 'woning'; args: unknown[] };

function setup(
  opts: {
    trajecten?: (TrajectLink & { trajectId: string })[];
    fail?: Error;
    logDown?: boolean;
  } = {},
) {
  const calls: Call[] = [];
  const records: Omit<ProcessingRecord, 'tijdstip'>[] = [];
  const lookups: string[] = [];
  const links = opts.trajecten ?? [
    { trajectId: 'OZ-2026-0042', inburgeraarId: ID, gemeente: 'gm0797' },
  ];
  const answer =
    (status: KredietbankAntwoord['status'], op: Call['op']) =>
    async (...args: unknown[]) => {
      calls.push({ op, args });
      if (opts.fail) throw opts.fail;
      return { referentie: args[1] as string, dossiernummer: 'KB-000001', status };
    };
  const deps: KredietbankTrajectDeps = {
    kredietbank: {
      end: answer('BEEINDIGD', 'end'),
      changeLooptijd: answer('GEWIJZIGD', 'looptijd'),
      changeWoning: answer('GEWIJZIGD', 'woning'),
    } as unknown as KredietbankClient,
    trajecten: {
      async get(gemeente, trajectId) {
        lookups.push(`${gemeente}.${trajectId}`);
        const l = links.find((x) => x.gemeente === gemeente && x.trajectId === trajectId);
        return l ? { inburgeraarId: l.inburgeraarId, gemeente: l.gemeente } : undefined;
      },
      async ofPerson(gemeente, inburgeraarId) {
        lookups.push(`${gemeente}.persoon.${inburgeraarId}`);
        return links.findLast((x) => x.gemeente === gemeente && x.inburgeraarId === inburgeraarId)
          ?.trajectId;
      },
      async put() {},
    },
    projector: createProjector('kredietbank'),
    processingLog: {
      async record(rec) {
        if (opts.logDown) throw new InfrastructureError('processing log unavailable');
        records.push(rec);
      },
    },
    logger: createLogger('test', { level: 'silent' }),
  };
  return { deps, calls, records, lookups };
}

const BEEINDIGING_TYPE = 'nl.inburgering.ontzorgen.beeindiging-aangevraagd';
const PIP_TYPE = 'nl.inburgering.pip.vastgesteld';
const rejected = (status: number) =>
  new PartnerRejectedError(`kredietbank/ontzorgtrajecten refused: HTTP ${status}`, status);

describe('createBeeindigingHandler', () => {
  it('ends a known traject with the scoped event id as idempotency key, logged before and after', async () => {
    const { deps, calls, records } = setup();
    expect(await createBeeindigingHandler(deps)(msg(BEEINDIGING_TYPE, BEEINDIGING))).toBe(
      'delivered',
    );
    expect(calls).toEqual([
      {
        op: 'end',
        args: ['0797', 'OZ-2026-0042', { datum: '2027-02-15', reden: 'VERHUISD' }, CALL_KEY],
      },
    ]);
    expect(records.map((r) => r.status)).toEqual(['gestart', 'verstrekt']);
    expect(records[0]).toMatchObject({
      activiteit: 'va-010',
      ontvanger: { partner: 'kredietbank', endpoint: 'ontzorgtrajecten' },
      betrokkene: ID,
      categorieen: ['gemeente', 'ontzorgen', 'pseudoniem'],
      gemeente: 'gm0797',
      eventId: EVENT_ID,
      eventType: BEEINDIGING_TYPE,
    });
  });

  it.each([
    ['unknown anywhere', []],
    [
      'known only for another gemeente',
      [{ trajectId: 'OZ-2026-0042', inburgeraarId: ID, gemeente: 'gm0796' }],
    ],
  ])(
    'dead-letters a traject %s (rule traject known), sending and logging nothing',
    async (_c, links) => {
      const { deps, calls, records } = setup({ trajecten: links });
      const err = await createBeeindigingHandler(deps)(msg(BEEINDIGING_TYPE, BEEINDIGING)).catch(
        (e: unknown) => e as { name: string; retryable: boolean; rule: string; message: string },
      );
      expect(err).toMatchObject({
        name: 'ValidationError',
        retryable: false,
        rule: 'traject known',
      });
      // The dead letter keeps only the message: it must name the rule.
      expect((err as Error).message).toContain('traject known');
      expect(calls).toEqual([]);
      expect(records).toEqual([]);
    },
  );

  it('dead-letters a traject the hub registered for another inburgeraar', async () => {
    const other = 'ih-ffffffffffffffffffffffffffffffff';
    const { deps, calls } = setup({
      trajecten: [{ trajectId: 'OZ-2026-0042', inburgeraarId: other, gemeente: 'gm0797' }],
    });
    await expect(
      createBeeindigingHandler(deps)(msg(BEEINDIGING_TYPE, BEEINDIGING)),
    ).rejects.toMatchObject({ retryable: false, rule: 'traject of inburgeraar' });
    expect(calls).toEqual([]);
  });

  it('dead-letters an event whose data names another gemeente than its envelope or subject', async () => {
    const { deps, calls } = setup();
    await expect(
      createBeeindigingHandler(deps)(
        msg(BEEINDIGING_TYPE, { ...BEEINDIGING, gemeenteCode: 'gm0796' }),
      ),
    ).rejects.toMatchObject({ retryable: false, rule: 'equals gemeente' });
    await expect(
      createBeeindigingHandler(deps)(msg(BEEINDIGING_TYPE, BEEINDIGING, 'gm0797', 'gm0796')),
    ).rejects.toMatchObject({ retryable: false, rule: 'equals gemeente' });
    expect(calls).toEqual([]);
  });

  it('retries a Kredietbank 404 for a traject the hub knows (its registration is in flight)', async () => {
    const { deps, records } = setup({ fail: rejected(404) });
    await expect(
      createBeeindigingHandler(deps)(msg(BEEINDIGING_TYPE, BEEINDIGING)),
    ).rejects.toMatchObject({
      name: 'PartnerUnavailableError',
      retryable: true,
      partnerStatus: 404,
      rule: 'traject registered',
    });
    expect(records.map((r) => r.status)).toEqual(['gestart', 'mislukt']);
  });

  it('dead-letters any other refusal of the Kredietbank', async () => {
    const { deps, records } = setup({ fail: rejected(422) });
    await expect(
      createBeeindigingHandler(deps)(msg(BEEINDIGING_TYPE, BEEINDIGING)),
    ).rejects.toMatchObject({ name: 'PartnerRejectedError', retryable: false });
    expect(records.map((r) => r.status)).toEqual(['gestart', 'geweigerd']);
  });

  it('does not call the Kredietbank when the processing log cannot be written (fail closed)', async () => {
    const { deps, calls } = setup({ logDown: true });
    await expect(
      createBeeindigingHandler(deps)(msg(BEEINDIGING_TYPE, BEEINDIGING)),
    ).rejects.toMatchObject({ name: 'InfrastructureError', retryable: true });
    expect(calls).toEqual([]);
  });

  it('dead-letters an event off the chain contract', async () => {
    const { deps, calls } = setup();
    await expect(
      createBeeindigingHandler(deps)(msg(BEEINDIGING_TYPE, { ...BEEINDIGING, reden: 'ziek' })),
    ).rejects.toMatchObject({ name: 'ValidationError', field: 'data.reden' });
    expect(calls).toEqual([]);
  });
});

describe('createPipHandler', () => {
  it('skips a PIP without ontzorgen: no look-up, no call, no processing-log record', async () => {
    const { deps, calls, records, lookups } = setup();
    const { ontzorgen: _o, ...zonder } = PIP;
    expect(await createPipHandler(deps)(msg(PIP_TYPE, zonder))).toBe('skipped');
    expect({ calls, records, lookups }).toEqual({ calls: [], records: [], lookups: [] });
  });

  it('skips a PIP for a traject the hub has not registered (its aanvraag carries the einddatum)', async () => {
    const { deps, calls, records, lookups } = setup({ trajecten: [] });
    expect(await createPipHandler(deps)(msg(PIP_TYPE, PIP))).toBe('skipped');
    expect(lookups).toEqual(['gm0797.OZ-2026-0042']);
    expect({ calls, records }).toEqual({ calls: [], records: [] });
  });

  it('moves the end of a known traject: only the new end and the PIP it rests on', async () => {
    const { deps, calls, records } = setup();
    expect(await createPipHandler(deps)(msg(PIP_TYPE, PIP))).toBe('delivered');
    expect(calls).toEqual([
      {
        op: 'looptijd',
        args: [
          '0797',
          'OZ-2026-0042',
          { eind: '2027-12-01', grondslag: { pip: 'PIP-2027-0042-2', dagtekening: '2027-04-15' } },
          CALL_KEY,
        ],
      },
    ]);
    expect(records.map((r) => r.status)).toEqual(['gestart', 'verstrekt']);
    expect(records[0]).toMatchObject({
      activiteit: 'va-010',
      categorieen: ['gemeente', 'ontzorgen', 'pseudoniem'],
      eventType: PIP_TYPE,
    });
    // Nothing of the leerroute or the deelnemer went into the call.
    expect(JSON.stringify(calls)).not.toMatch(/b1-route|taalschool|Haddad|example\.org/);
  });

  it('retries a 404 for a known traject, dead-letters a 409 (traject ended)', async () => {
    const notYet = setup({ fail: rejected(404) });
    await expect(createPipHandler(notYet.deps)(msg(PIP_TYPE, PIP))).rejects.toMatchObject({
      retryable: true,
      rule: 'traject registered',
    });
    const ended = setup({ fail: rejected(409) });
    await expect(createPipHandler(ended.deps)(msg(PIP_TYPE, PIP))).rejects.toMatchObject({
      name: 'PartnerRejectedError',
      retryable: false,
    });
    expect(ended.records.map((r) => r.status)).toEqual(['gestart', 'geweigerd']);
  });
});

describe('createHuurcontractHandler', () => {
  const LEASE_TYPE = 'nl.inburgering.huurcontract.getekend';

  it('moves a client in a traject to the home of the lease: address, rent and account only', async () => {
    const { deps, calls, records, lookups } = setup();
    expect(await createHuurcontractHandler(deps)(msg(LEASE_TYPE, LEASE))).toBe('delivered');
    expect(lookups).toEqual([`gm0797.persoon.${ID}`]);
    expect(calls).toEqual([
      {
        op: 'woning',
        args: [...Object.values(golden('huurcontract.kredietbank.json') as object), CALL_KEY],
      },
    ]);
    expect(records.map((r) => r.status)).toEqual(['gestart', 'verstrekt']);
    expect(records[0]).toMatchObject({
      activiteit: 'va-010',
      categorieen: ['adres', 'financieel', 'gemeente', 'ontzorgen', 'pseudoniem'],
      eventType: LEASE_TYPE,
      betrokkene: ID,
    });
    // Not the search, the corporatie's id or the keys.
    expect(JSON.stringify(calls)).not.toMatch(/WA-2026-0042|woonpoort"|sleuteloverdracht/);
  });

  it('skips the lease of a client without a traject here: no call, no processing-log record', async () => {
    for (const links of [
      [],
      [{ trajectId: 'OZ-2026-0042', inburgeraarId: ID, gemeente: 'gm0796' }],
      [
        {
          trajectId: 'OZ-2026-0042',
          inburgeraarId: 'ih-ffffffffffffffffffffffffffffffff',
          gemeente: 'gm0797',
        },
      ],
    ]) {
      const { deps, calls, records } = setup({ trajecten: links });
      expect(await createHuurcontractHandler(deps)(msg(LEASE_TYPE, LEASE))).toBe('skipped');
      expect({ calls, records }).toEqual({ calls: [], records: [] });
    }
  });

  it('uses the latest traject the hub registered for the client', async () => {
    const { deps, calls } = setup({
      trajecten: [
        { trajectId: 'OZ-2026-0001', inburgeraarId: ID, gemeente: 'gm0797' },
        { trajectId: 'OZ-2026-0042', inburgeraarId: ID, gemeente: 'gm0797' },
      ],
    });
    await createHuurcontractHandler(deps)(msg(LEASE_TYPE, LEASE));
    expect(calls[0]!.args[1]).toBe('OZ-2026-0042');
  });

  it('dead-letters a rent account failing its check digits before anything is disclosed', async () => {
    const { deps, calls, records } = setup();
    const bad = { ...LEASE, betaling: { ...LEASE.betaling, iban: 'NL18RABO0123459867' } };
    await expect(createHuurcontractHandler(deps)(msg(LEASE_TYPE, bad))).rejects.toMatchObject({
      name: 'ValidationError',
      retryable: false,
      field: 'data.betaling.iban',
      rule: 'iban',
    });
    expect({ calls, records }).toEqual({ calls: [], records: [] });
  });

  it('retries a 404 for a known traject; a 409 (traject ended) leaves nothing to change', async () => {
    const notYet = setup({ fail: rejected(404) });
    await expect(
      createHuurcontractHandler(notYet.deps)(msg(LEASE_TYPE, LEASE)),
    ).rejects.toMatchObject({
      retryable: true,
      rule: 'traject registered',
    });
    const ended = setup({ fail: rejected(409) });
    expect(await createHuurcontractHandler(ended.deps)(msg(LEASE_TYPE, LEASE))).toBe('skipped');
    expect(ended.records.map((r) => r.status)).toEqual(['gestart', 'geweigerd']);
    const refused = setup({ fail: rejected(422) });
    await expect(
      createHuurcontractHandler(refused.deps)(msg(LEASE_TYPE, LEASE)),
    ).rejects.toMatchObject({
      name: 'PartnerRejectedError',
      retryable: false,
    });
  });
});
