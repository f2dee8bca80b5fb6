import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPolicies, policies } from '../src/policies.ts';
import { schemas } from '../src/registry.ts';
import { catalogue, markdown } from './catalogue.ts';

const CONTRACTS = fileURLToPath(new URL('../', import.meta.url));
let dir: string | undefined;

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('contracts:catalogue', () => {
  const rows = catalogue();
  const row = (type: string) => rows.find((r) => r.type === type)!;

  it('has every registered event type once, with its data schema', () => {
    expect(rows.map((r) => r.type)).toEqual(schemas().eventTypes());
    expect(row('nl.inburgering.pip.afgewezen').schema).toBe(
      'events/duo-melding.afgewezen.schema.json',
    );
  });

  it('names producers and receivers as the policies say', () => {
    // Spot checks that hold with more partners (new:partner adds one receiving pip.vastgesteld).
    expect(row('nl.inburgering.leerroute.uren').producers).toEqual(
      expect.arrayContaining(['gemeente-kvs', 'taalaanbieder']),
    );
    expect(row('nl.inburgering.pip.geregistreerd').producers).toEqual([]);
    const pip = row('nl.inburgering.pip.vastgesteld').receivers;
    expect(pip.map((r) => `${r.partner} ${r.activiteit}`)).toEqual(
      expect.arrayContaining(['duo va-004', 'kredietbank va-010', 'taalaanbieder va-020']),
    );
    expect(pip.find((r) => r.partner === 'kredietbank')!.velden).toEqual(
      Object.keys(
        policies().policy('kredietbank').ontvangt['nl.inburgering.pip.vastgesteld']!.velden,
      ).sort(),
    );
    const all = [...policies().policies.values()];
    for (const r of rows) {
      expect(r.producers, r.type).toEqual(
        all
          .filter((p) => p.levert.includes(r.type))
          .map((p) => p.partner)
          .sort(),
      );
      expect(
        r.receivers.map((x) => x.partner),
        r.type,
      ).toEqual(
        all
          .filter((p) => p.ontvangt[r.type])
          .map((p) => p.partner)
          .sort(),
      );
    }
  });

  it('shows a new partner from its policy alone', () => {
    const taken = new Set(policies().register.activiteiten.map((a) => a.id));
    const activity = Array.from({ length: 99 }, (_, i) => `va-${901 + i}`).find(
      (a) => !taken.has(a),
    )!;
    dir = mkdtempSync(join(tmpdir(), 'ketenhub-catalogue-'));
    cpSync(
      join(CONTRACTS, 'verwerkingsactiviteiten.yaml'),
      join(dir, 'verwerkingsactiviteiten.yaml'),
    );
    cpSync(join(CONTRACTS, 'policies'), join(dir, 'policies'), { recursive: true });
    writeFileSync(
      join(dir, 'policies', 'catalogue-test.yaml'),
      `partner: catalogue-test
naam: Catalogue test
levert: []
ontvangt:
  nl.inburgering.pip.vastgesteld:
    activiteit: ${activity}
    velden: { gemeenteCode: gemeente, leerroute: pip }
activiteiten:
  - id: ${activity}
    naam: Leerroute doorgeven aan de test
    doel: test
    grondslag: { wet: test, dpv: 'dpv:PublicInterest' }
    bewaartermijn: P1Y
    categorieen: [gemeente, pip]
    ontvangers: [catalogue-test]
`,
    );
    const pip = catalogue(schemas(), loadPolicies(dir)).find(
      (r) => r.type === 'nl.inburgering.pip.vastgesteld',
    )!;
    expect(pip.receivers.find((r) => r.partner === 'catalogue-test')).toEqual({
      partner: 'catalogue-test',
      activiteit: activity,
      velden: ['gemeenteCode', 'leerroute'],
    });
  });

  it('prints a markdown table: a header, a rule, one row per type, columns aligned', () => {
    const lines = markdown(rows).split('\n');
    expect(lines).toHaveLength(rows.length + 2);
    expect(lines[0]).toMatch(/^\| event type +\| data schema +\| produced by/);
    expect(lines[1]).toMatch(/^\| -+ \| -+ \| -+ \| -+ \|$/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    const geregistreerd = lines.find((l) => l.startsWith('| `nl.inburgering.pip.geregistreerd`'))!;
    expect(geregistreerd.split('|').map((c) => c.trim())).toEqual([
      '',
      '`nl.inburgering.pip.geregistreerd`',
      '`events/duo-melding.geregistreerd.schema.json`',
      'no partner',
      '`gemeente-kvs` (va-007)',
      '',
    ]);
  });
});
