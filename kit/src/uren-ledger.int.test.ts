import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { startLocalNats, type LocalNats } from './local-nats.ts';
import { connectNats } from './nats.ts';
import { schemas } from '@ketenhub/contracts';
import { UREN_SOORTEN, openUrenLedger, type UrenLedger, type UrenRapport } from './uren-ledger.ts';

/** The hours ledger on a real nats-server: sums by source, idempotent, newest report wins. */
let server: LocalNats;
let nc: NatsConnection;
let ledger: UrenLedger;

beforeAll(async () => {
  server = await startLocalNats();
  nc = await connectNats(server.url, 'uren-ledger-test');
  ledger = await openUrenLedger(nc);
});
afterAll(async () => {
  await nc?.drain();
  await server?.stop();
});

const ID = 'ih-0123456789abcdef0123456789abcdef';
const rapport = (bron: string, uren: number, tijd: string, n = tijd): UrenRapport => ({
  gemeente: 'gm0797',
  inburgeraarId: ID,
  soort: 'participatie-als-taalles',
  bron,
  uren,
  tijd: `${tijd}T10:00:00Z`,
  eventId: `e-${bron}-${n}`,
});

describe('the hours ledger', () => {
  it("sums each source's own total: a school's report replaces its earlier one, never adds", async () => {
    expect((await ledger.report(rapport('taalaanbieder:noord', 40, '2026-10-01'))).totaal).toBe(40);
    expect((await ledger.report(rapport('kvs', 12, '2026-10-02'))).totaal).toBe(52);
    const stand = await ledger.report(rapport('taalaanbieder:noord', 64, '2026-11-01'));
    expect(stand.totaal).toBe(76);
    expect(stand.bijdragen).toEqual({
      'taalaanbieder:noord': {
        uren: 64,
        tijd: '2026-11-01T10:00:00Z',
        eventId: 'e-taalaanbieder:noord-2026-11-01',
      },
      kvs: { uren: 12, tijd: '2026-10-02T10:00:00Z', eventId: 'e-kvs-2026-10-02' },
    });
    // A school of an earlier leerroute stays counted, as DUO counts it.
    expect((await ledger.report(rapport('taalaanbieder:zuid', 10, '2026-11-05'))).totaal).toBe(86);
  });

  it('is idempotent under redelivery and replay: the same or an older report changes nothing', async () => {
    const before = await ledger.get('gm0797', ID, 'participatie-als-taalles');
    await ledger.report(rapport('taalaanbieder:noord', 64, '2026-11-01'));
    await ledger.report(rapport('taalaanbieder:noord', 40, '2026-10-01'));
    expect(await ledger.get('gm0797', ID, 'participatie-als-taalles')).toEqual(before);
    expect(before!.totaal).toBe(86);
  });

  it('keeps gemeenten and kinds apart', async () => {
    expect(await ledger.get('gm0796', ID, 'participatie-als-taalles')).toBeUndefined();
    const other = await ledger.report({
      ...rapport('kvs', 5, '2026-11-10'),
      soort: 'bredeintake-taalles-knm',
    });
    expect(other.totaal).toBe(5);
  });

  it('finds every stand of a person in the given gemeenten for the inzage', async () => {
    const all = await ledger.forPersons([ID], ['gm0796', 'gm0797']);
    expect(all.map((x) => `${x.gemeente} ${x.soort} ${x.totaal}`).sort()).toEqual([
      'gm0797 bredeintake-taalles-knm 5',
      'gm0797 participatie-als-taalles 86',
    ]);
    expect(await ledger.forPersons([ID], ['gm0797'])).toEqual(all);
    expect(await ledger.forPersons([ID], ['gm0796'])).toEqual([]);
    expect(await ledger.forPersons(['ih-ffffffffffffffffffffffffffffffff'], ['gm0797'])).toEqual(
      [],
    );
  });

  it('names the kinds of the chain contract', () => {
    const def = (
      schemas().byId('https://contracts.ketenhub.nl/events/common.schema.json').schema as {
        $defs: { UrenSoort: { enum: string[] } };
      }
    ).$defs.UrenSoort;
    expect([...UREN_SOORTEN]).toEqual(def.enum);
  });

  it('loses no report when many sources report about one person at once', async () => {
    const reports = Array.from({ length: 12 }, (_, i) => ({
      ...rapport(`taalaanbieder:s${i}`, i + 1, '2026-12-01'),
      soort: 'zroute-participatieactiviteiten',
    }));
    await Promise.all(reports.map((r) => ledger.report(r)));
    const stand = await ledger.get('gm0797', ID, 'zroute-participatieactiviteiten');
    expect(Object.keys(stand!.bijdragen)).toHaveLength(12);
    expect(stand!.totaal).toBe(78);
  });
});
