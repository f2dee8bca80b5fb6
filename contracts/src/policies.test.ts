import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { durationDays, loadPolicies, policies, retentionDays } from './policies.ts';

const CONTRACTS = fileURLToPath(new URL('../', import.meta.url));
let dir: string;

/** A copy of the register and policies that a test may spoil. */
function copy(): string {
  dir = mkdtempSync(join(tmpdir(), 'ketenhub-contracts-'));
  cpSync(
    join(CONTRACTS, 'verwerkingsactiviteiten.yaml'),
    join(dir, 'verwerkingsactiviteiten.yaml'),
  );
  cpSync(join(CONTRACTS, 'policies'), join(dir, 'policies'), { recursive: true });
  return dir;
}

function spoil(file: string, from: string, to: string): void {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  expect(text).toContain(from);
  writeFileSync(path, text.replace(from, to));
}

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('register and policies fit together', () => {
  it('loads the real contracts', () => {
    expect([...policies().policies.keys()]).toContain('gemeente-kvs');
    expect(loadPolicies(copy()).register.activiteiten.length).toBeGreaterThan(0);
  });

  it('fails when a policy names an activity that is not in the register', () => {
    copy();
    spoil('policies/gemeente-kvs.yaml', 'activiteit: va-001', 'activiteit: va-999');
    expect(() => loadPolicies(dir)).toThrow(/activity va-999 is not in the register/);
  });

  it('fails when a delivered field has no known category', () => {
    copy();
    spoil('policies/gemeente-kvs.yaml', 'persoon.bsn: identificatie', 'persoon.bsn: geheim');
    expect(() => loadPolicies(dir)).toThrow(/persoon\.bsn: unknown category geheim/);
  });

  it("fails when a field's category is not processed by the policy's activity", () => {
    copy();
    spoil('policies/gemeente-kvs.yaml', 'persoon.bsn: identificatie', 'persoon.bsn: gezondheid');
    expect(() => loadPolicies(dir)).toThrow(/persoon\.bsn: category gezondheid not in va-001/);
  });

  it('fails when a policy allows a field the event does not have', () => {
    copy();
    spoil(
      'policies/gemeente-kvs.yaml',
      'persoon.bsn: identificatie',
      'persoon.iban: identificatie',
    );
    expect(() => loadPolicies(dir)).toThrow(
      /field persoon\.iban does not exist in the event schema/,
    );
  });

  it('fails when the activity does not list the partner as a recipient', () => {
    copy();
    spoil('verwerkingsactiviteiten.yaml', 'ontvangers: [gemeente-kvs]', 'ontvangers: [duo]');
    expect(() => loadPolicies(dir)).toThrow(/activity va-001 does not list gemeente-kvs/);
  });

  it('fails on a register entry without a legal basis, naming the field', () => {
    copy();
    spoil('verwerkingsactiviteiten.yaml', "      dpv: 'dpv:LegalObligation'\n", '');
    expect(() => loadPolicies(dir)).toThrow(/grondslag\.dpv: is required/);
  });
});

describe("a partner's own register entries, kept with its policy", () => {
  const own = `partner: voorbeeld
naam: Voorbeeld
levert: []
ontvangt:
  nl.inburgering.pip.vastgesteld:
    activiteit: va-901
    velden:
      gemeenteCode: gemeente
activiteiten:
  - id: va-901
    naam: Voorbeeld
    doel: Het voorbeeld van een eigen registerregel.
    grondslag: { wet: 'Wi 2021 art. 1', dpv: 'dpv:PublicInterest' }
    bewaartermijn: P1Y
    categorieen: [gemeente]
    ontvangers: [voorbeeld]
`;

  it('joins the register and serves the policy that names it', () => {
    copy();
    writeFileSync(join(dir, 'policies/voorbeeld.yaml'), own);
    const set = loadPolicies(dir);
    expect(set.activity('va-901').ontvangers).toEqual(['voorbeeld']);
    expect(set.register.activiteiten.map((a) => a.id)).toContain('va-901');
    expect(set.policy('voorbeeld').ontvangt['nl.inburgering.pip.vastgesteld']!.activiteit).toBe(
      'va-901',
    );
  });

  it('may not take an id the register has, nor name an unknown category', () => {
    copy();
    writeFileSync(join(dir, 'policies/voorbeeld.yaml'), own.replaceAll('va-901', 'va-001'));
    expect(() => loadPolicies(dir)).toThrow(/activity va-001 exists already/);
    writeFileSync(
      join(dir, 'policies/voorbeeld.yaml'),
      own.replace('categorieen: [gemeente]', 'categorieen: [geheim]'),
    );
    expect(() => loadPolicies(dir)).toThrow(/va-901: unknown category geheim/);
  });
});

describe("a partner's own categories in its policy", () => {
  const own = `partner: voorbeeld
naam: Voorbeeld
levert: []
ontvangt:
  nl.inburgering.pip.vastgesteld:
    activiteit: va-901
    velden:
      gemeenteCode: eigen
categorieen:
  eigen: { naam: 'Een categorie van het voorbeeld', bijzonder: true }
activiteiten:
  - id: va-901
    naam: Voorbeeld
    doel: Het voorbeeld van een eigen categorie.
    grondslag: { wet: 'Wi 2021 art. 1', dpv: 'dpv:PublicInterest' }
    bewaartermijn: P1Y
    categorieen: [eigen]
    ontvangers: [voorbeeld]
`;

  it('join the register, where activities and policy fields may name them', () => {
    copy();
    writeFileSync(join(dir, 'policies/voorbeeld.yaml'), own);
    const set = loadPolicies(dir);
    expect(set.register.categorieen['eigen']).toEqual({
      naam: 'Een categorie van het voorbeeld',
      bijzonder: true,
    });
    expect(set.activity('va-901').categorieen).toEqual(['eigen']);
  });

  it('may not take a name the register has', () => {
    copy();
    writeFileSync(join(dir, 'policies/voorbeeld.yaml'), own.replaceAll('eigen', 'gezondheid'));
    expect(() => loadPolicies(dir)).toThrow(/voorbeeld.yaml: category gezondheid exists already/);
  });
});

describe('retention from the register', () => {
  it('reads ISO durations and takes the longest activity for the chain streams', () => {
    expect(durationDays('P3M')).toBe(93);
    expect(durationDays('P1Y2M3D')).toBe(366 + 62 + 3);
    expect(() => durationDays('3 maanden')).toThrow(/ISO 8601/);
    const r = retentionDays(policies().register);
    expect(r.keten).toBe(93);
    expect(r.processingLog).toBe(732);
  });
});

describe("aanvullingen: the other side of a partner's flows in its own policy", () => {
  const proef = (aanvullingen: string) => `partner: proef
naam: Proefpartner
levert: []
ontvangt: {}
activiteiten:
  - id: va-990
    naam: Proef
    doel: Een proef van aanvullingen.
    grondslag:
      wet: 'Wi 2021'
      avg: 'art. 6 lid 1 sub e'
      dpv: 'dpv:PublicInterest'
    bewaartermijn: P1M
    categorieen: [pseudoniem, gemeente, dossier]
    ontvangers: [gemeente-kvs]
aanvullingen:
${aanvullingen}
`;

  it("adds types to the other partner's policy, checked as if written there", () => {
    copy();
    writeFileSync(
      join(dir, 'policies/proef.yaml'),
      proef(`  gemeente-kvs:
    levert: [nl.inburgering.leerroute.voortgang]
    ontvangt:
      nl.inburgering.ontzorgen.aangevraagd:
        activiteit: va-990
        velden: { inburgeraarId: pseudoniem, gemeenteCode: gemeente }`),
    );
    const kvs = loadPolicies(dir).policy('gemeente-kvs');
    expect(kvs.levert).toContain('nl.inburgering.leerroute.voortgang');
    expect(kvs.ontvangt['nl.inburgering.ontzorgen.aangevraagd']).toEqual({
      activiteit: 'va-990',
      velden: { inburgeraarId: 'pseudoniem', gemeenteCode: 'gemeente' },
    });
  });

  it('never changes what the other policy says, and checks what it adds', () => {
    copy();
    const file = join(dir, 'policies/proef.yaml');
    writeFileSync(
      file,
      proef(`  gemeente-kvs:
    levert: [nl.inburgering.pip.vastgesteld]
    ontvangt:
      nl.inburgering.inburgeraar.gekoppeld:
        activiteit: va-990
        velden: { inburgeraarId: pseudoniem }`),
    );
    expect(() => loadPolicies(dir)).toThrow(
      /aanvullingen\.gemeente-kvs: levert nl\.inburgering\.pip\.vastgesteld already[^]*ontvangt nl\.inburgering\.inburgeraar\.gekoppeld already/,
    );
    writeFileSync(
      file,
      proef(`  gemeente-kvs:
    ontvangt:
      nl.inburgering.ontzorgen.aangevraagd:
        activiteit: va-990
        velden: { inburgeraarId: gezondheid }`),
    );
    expect(() => loadPolicies(dir)).toThrow(
      /proef\.yaml: aanvullingen\.gemeente-kvs: nl\.inburgering\.ontzorgen\.aangevraagd: inburgeraarId: category gezondheid not in va-990/,
    );
    writeFileSync(file, proef(`  nobody:\n    levert: [nl.inburgering.pip.vastgesteld]`));
    expect(() => loadPolicies(dir)).toThrow(/aanvullingen\.nobody: no other partner nobody/);
  });
});
