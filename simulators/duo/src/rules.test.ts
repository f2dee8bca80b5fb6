import { describe, expect, it } from 'vitest';
import {
  DUO_RULES,
  checkInburgeringsaanbod,
  checkMapPvt,
  checkPipRegistratie,
  checkPipVerwijdering,
  recordedNiveau,
} from './rules.ts';
import type {
  AanbodFacts,
  AanbodInput,
  DuoRuleId,
  MapPvtFacts,
  MapPvtInput,
  PipInput,
  PipRegistratieFacts,
  RuleViolation,
} from './rules.ts';

const ids = (v: RuleViolation[]): DuoRuleId[] => v.map((x) => x.rule);

const pipFacts: PipRegistratieFacts = {
  plichtBegindatum: '2026-01-01',
  vestigingsdatum: '2026-01-10',
  doelgroep: 'Asielstatushouder',
  eerderePipBekend: false,
};
const pip: PipInput = { dagtekeningPip: '2026-02-01', leerroute: 'B' };

describe('PIP registration rules', () => {
  it('accepts a plain first PIP', () => {
    expect(checkPipRegistratie(pip, pipFacts)).toEqual([]);
  });

  const cases: [
    DuoRuleId,
    PipInput,
    Partial<PipRegistratieFacts>,
    PipInput,
    Partial<PipRegistratieFacts>,
  ][] = [
    // rule, failing input, failing facts, passing input, passing facts
    [
      'pip.dagtekening-voor-plicht',
      { ...pip, dagtekeningPip: '2025-12-31' },
      { vestigingsdatum: '2025-12-01' },
      { ...pip, dagtekeningPip: '2026-01-01' },
      { vestigingsdatum: '2025-12-01' },
    ],
    [
      'pip.dagtekening-voor-vestiging',
      { ...pip, dagtekeningPip: '2026-01-09' },
      {},
      { ...pip, dagtekeningPip: '2026-01-10' },
      {},
    ],
    [
      'pip.dagtekening-voor-initieel',
      { ...pip, dagtekeningPip: '2026-02-28' },
      {
        gemeentePip: { initieleDagtekening: '2026-03-01', actueleDagtekening: '2026-02-01' },
        eerderePipBekend: true,
      },
      { ...pip, dagtekeningPip: '2026-03-01' },
      {
        gemeentePip: { initieleDagtekening: '2026-03-01', actueleDagtekening: '2026-02-01' },
        eerderePipBekend: true,
      },
    ],
    [
      'pip.dagtekening-voor-actueel',
      { ...pip, dagtekeningPip: '2026-04-30' },
      {
        gemeentePip: { initieleDagtekening: '2026-02-01', actueleDagtekening: '2026-05-01' },
        eerderePipBekend: true,
      },
      { ...pip, dagtekeningPip: '2026-05-01' },
      {
        gemeentePip: { initieleDagtekening: '2026-02-01', actueleDagtekening: '2026-05-01' },
        eerderePipBekend: true,
      },
    ],
    [
      'pip.niveau-a2-onderwijsroute',
      { ...pip, leerroute: 'O', niveau: 'A2' },
      {},
      { ...pip, leerroute: 'O', niveau: 'B1' },
      {},
    ],
    [
      'pip.niveau-b1-zroute',
      { ...pip, leerroute: 'Z', niveau: 'B1' },
      {},
      { ...pip, leerroute: 'Z', niveau: 'A2' },
      {},
    ],
    [
      'pip.niveau-a2-eerste-pip-b1route',
      { ...pip, niveau: 'A2' },
      {},
      { ...pip, niveau: 'A2' },
      { eerderePipBekend: true },
    ],
    [
      'pip.intensiteit-alleen-b1route',
      { ...pip, leerroute: 'Z', geschatteIntensiteitB1Route: 600 },
      {},
      { ...pip, geschatteIntensiteitB1Route: 600 },
      {},
    ],
    [
      'pip.intensiteit-alleen-asiel',
      { ...pip, geschatteIntensiteitB1Route: 600 },
      { doelgroep: 'Gezinsmigrant en overige migrant' },
      pip,
      { doelgroep: 'Gezinsmigrant en overige migrant' },
    ],
  ];
  for (const [rule, badInput, badFacts, goodInput, goodFacts] of cases) {
    it(`${rule}: refuses the breaking case, accepts the one next to it`, () => {
      const bad = checkPipRegistratie(badInput, { ...pipFacts, ...badFacts });
      expect(ids(bad)).toEqual([rule]);
      expect(bad[0]?.fouttekst.startsWith(`${rule}: `)).toBe(true);
      expect(checkPipRegistratie(goodInput, { ...pipFacts, ...goodFacts })).toEqual([]);
    });
  }

  it('treats a person not settled in the gemeente as breaking the vestiging rule', () => {
    const { vestigingsdatum: _v, ...notSettled } = pipFacts;
    expect(ids(checkPipRegistratie(pip, notSettled))).toEqual(['pip.dagtekening-voor-vestiging']);
  });

  it('skips the plicht check when DUO has no begindatum', () => {
    const { plichtBegindatum: _p, ...noPlicht } = pipFacts;
    expect(checkPipRegistratie({ ...pip, dagtekeningPip: '2026-01-10' }, noPlicht)).toEqual([]);
  });

  it('reports every broken rule at once', () => {
    const all = checkPipRegistratie(
      {
        dagtekeningPip: '2025-01-01',
        leerroute: 'Z',
        niveau: 'B1',
        geschatteIntensiteitB1Route: 5,
      },
      { ...pipFacts, doelgroep: 'Gezinsmigrant en overige migrant' },
    );
    expect(ids(all)).toEqual([
      'pip.dagtekening-voor-plicht',
      'pip.dagtekening-voor-vestiging',
      'pip.niveau-b1-zroute',
      'pip.intensiteit-alleen-b1route',
      'pip.intensiteit-alleen-asiel',
    ]);
    for (const v of all) expect(v.fouttekst.length).toBeLessThanOrEqual(200);
  });

  it('records B1 when no niveau is sent with B or O, nothing with Z', () => {
    expect(recordedNiveau({ leerroute: 'B' })).toBe('B1');
    expect(recordedNiveau({ leerroute: 'O' })).toBe('B1');
    expect(recordedNiveau({ leerroute: 'Z' })).toBeUndefined();
    expect(recordedNiveau({ leerroute: 'B', niveau: 'A2' })).toBe('A2');
  });
});

describe('PIP deletion rules', () => {
  it('allows deletion without termijn and course hours, refuses either', () => {
    expect(checkPipVerwijdering({ termijnGezet: false, cursusurenGeregistreerd: false })).toEqual(
      [],
    );
    expect(
      ids(checkPipVerwijdering({ termijnGezet: true, cursusurenGeregistreerd: false })),
    ).toEqual(['pip.verwijderen-termijn']);
    expect(
      ids(checkPipVerwijdering({ termijnGezet: false, cursusurenGeregistreerd: true })),
    ).toEqual(['pip.verwijderen-uren']);
  });
});

describe('MAP/PVT rules', () => {
  const termijn = { startdatum: '2026-02-01', einddatum: '2029-02-01' };
  const facts: MapPvtFacts = {
    today: '2027-06-15',
    gemeenteHeeftActuelePip: true,
    plichtVoldaanViaZroute: false,
    termijn,
  };
  const ok: MapPvtInput = { datum: '2027-05-01' };

  const cases: [DuoRuleId, MapPvtInput, Partial<MapPvtFacts>, MapPvtInput, Partial<MapPvtFacts>][] =
    [
      ['mappvt.geen-actuele-pip', ok, { gemeenteHeeftActuelePip: false }, ok, {}],
      ['mappvt.voldaan-via-zroute', ok, { plichtVoldaanViaZroute: true }, ok, {}],
      ['mappvt.datum-voor-termijn', { datum: '2026-01-31' }, {}, { datum: '2026-02-01' }, {}],
      [
        'mappvt.datum-na-zroute',
        { datum: '2027-05-02' },
        { datumAfrondingZroute: '2027-05-01' },
        { datum: '2027-05-01' },
        { datumAfrondingZroute: '2027-05-01' },
      ],
      ['mappvt.datum-in-toekomst', { datum: '2027-06-16' }, {}, { datum: '2027-06-15' }, {}],
      // Exceeded: today on or after the exclusive einddatum.
      [
        'mappvt.verwijtbaar-ja-termijn-loopt',
        { verwijtbaar: 'Ja' },
        { today: '2029-01-31' },
        { verwijtbaar: 'Ja' },
        { today: '2029-02-01' },
      ],
      // Within two months: einddatum − 2 months = 2028-12-01.
      [
        'mappvt.verwijtbaar-nee-termijn-niet-bijna-om',
        { verwijtbaar: 'Nee' },
        { today: '2028-11-30' },
        { verwijtbaar: 'Nee' },
        { today: '2028-12-01' },
      ],
      [
        'mappvt.verwijtbaar-datum-binnen-termijn',
        { datum: '2029-01-31', verwijtbaar: 'Ja' },
        { today: '2029-03-01' },
        { datum: '2029-02-01', verwijtbaar: 'Ja' },
        { today: '2029-03-01' },
      ],
    ];
  for (const [rule, badInput, badFacts, goodInput, goodFacts] of cases) {
    it(`${rule}: refuses the breaking case, accepts the one next to it`, () => {
      const bad = checkMapPvt('map', badInput, { ...facts, ...badFacts });
      expect(ids(bad)).toEqual([rule]);
      expect(checkMapPvt('pvt', goodInput, { ...facts, ...goodFacts })).toEqual([]);
    });
  }

  it('refuses verwijtbaar without a termijn, and skips the termijn start check then', () => {
    const { termijn: _t, ...noTermijn } = facts;
    expect(ids(checkMapPvt('pvt', { verwijtbaar: 'Nee' }, noTermijn))).toEqual([
      'mappvt.verwijtbaar-zonder-termijn',
    ]);
    expect(checkMapPvt('pvt', { datum: '2020-01-01' }, noTermijn)).toEqual([]);
  });

  it("accepts 'Nee' also after the termijn is exceeded, and an empty PUT (withdrawal)", () => {
    expect(checkMapPvt('map', { verwijtbaar: 'Nee' }, { ...facts, today: '2029-06-01' })).toEqual(
      [],
    );
    expect(checkMapPvt('map', {}, facts)).toEqual([]);
  });
});

describe('inburgeringsaanbod rules', () => {
  const facts: AanbodFacts = {
    doelgroep: 'Asielstatushouder',
    actuelePip: { dagtekeningPip: '2026-02-01', leerroute: 'B' },
    termijn: { startdatum: '2026-02-01', einddatum: '2029-02-01' },
    instelling: { indicatieBowKeurmerk: true, indicatieTstKeurmerk: false },
  };
  const ok: AanbodInput = {
    datumInburgeringsaanbod: '2026-03-01',
    verwachteStartdatumOpleiding: '2026-03-15',
    verwachteEinddatumOpleiding: '2029-02-01',
  };
  const tst = { indicatieBowKeurmerk: false, indicatieTstKeurmerk: true };

  const cases: [DuoRuleId, AanbodInput, Partial<AanbodFacts>, AanbodInput, Partial<AanbodFacts>][] =
    [
      ['aanbod.geen-asielmigrant', ok, { doelgroep: 'Gezinsmigrant en overige migrant' }, ok, {}],
      ['aanbod.geen-pip', {}, { actuelePip: undefined }, {}, {}],
      ['aanbod.instelling-onbekend', ok, { instelling: undefined }, ok, {}],
      [
        'aanbod.instelling-geen-keurmerk',
        ok,
        { instelling: tst },
        ok,
        { instelling: tst, actuelePip: { dagtekeningPip: '2026-02-01', leerroute: 'O' } },
      ],
      [
        'aanbod.datum-voor-pip',
        { datumInburgeringsaanbod: '2026-03-01' },
        { actuelePip: { dagtekeningPip: '2026-03-02', leerroute: 'B' } },
        { datumInburgeringsaanbod: '2026-03-02' },
        { actuelePip: { dagtekeningPip: '2026-03-02', leerroute: 'B' } },
      ],
      [
        'aanbod.datum-buiten-termijn',
        { verwachteStartdatumOpleiding: '2029-02-01' },
        {},
        { verwachteStartdatumOpleiding: '2029-01-31' },
        {},
      ],
    ];
  for (const [rule, badInput, badFacts, goodInput, goodFacts] of cases) {
    it(`${rule}: refuses the breaking case, accepts the one next to it`, () => {
      const bad = checkInburgeringsaanbod(badInput, { ...facts, ...badFacts });
      expect(ids(bad)).toEqual([rule]);
      expect(checkInburgeringsaanbod(goodInput, { ...facts, ...goodFacts })).toEqual([]);
    });
  }

  it('lets the expected (exclusive) end equal the termijn end, not pass it', () => {
    expect(checkInburgeringsaanbod({ verwachteEinddatumOpleiding: '2029-02-01' }, facts)).toEqual(
      [],
    );
    expect(
      ids(checkInburgeringsaanbod({ verwachteEinddatumOpleiding: '2029-02-02' }, facts)),
    ).toEqual(['aanbod.datum-buiten-termijn']);
  });

  it('refuses dates when there is no termijn yet', () => {
    const { termijn: _t, ...noTermijn } = facts;
    expect(
      ids(checkInburgeringsaanbod({ datumInburgeringsaanbod: '2026-03-01' }, noTermijn)),
    ).toEqual(['aanbod.datum-buiten-termijn']);
  });
});

describe('rule catalogue', () => {
  it('lists exactly the rules the cases above cover', () => {
    // A cheap guard that a new rule does not go untested: the ids are listed here on purpose.
    expect(Object.keys(DUO_RULES).sort()).toEqual(
      [
        'aanbod.datum-buiten-termijn',
        'aanbod.datum-voor-pip',
        'aanbod.geen-asielmigrant',
        'aanbod.geen-pip',
        'aanbod.instelling-geen-keurmerk',
        'aanbod.instelling-onbekend',
        'mappvt.datum-in-toekomst',
        'mappvt.datum-na-zroute',
        'mappvt.datum-voor-termijn',
        'mappvt.geen-actuele-pip',
        'mappvt.verwijtbaar-datum-binnen-termijn',
        'mappvt.verwijtbaar-ja-termijn-loopt',
        'mappvt.verwijtbaar-nee-termijn-niet-bijna-om',
        'mappvt.verwijtbaar-zonder-termijn',
        'mappvt.voldaan-via-zroute',
        'pip.dagtekening-voor-actueel',
        'pip.dagtekening-voor-initieel',
        'pip.dagtekening-voor-plicht',
        'pip.dagtekening-voor-vestiging',
        'pip.intensiteit-alleen-asiel',
        'pip.intensiteit-alleen-b1route',
        'pip.niveau-a2-eerste-pip-b1route',
        'pip.niveau-a2-onderwijsroute',
        'pip.niveau-b1-zroute',
        'pip.verwijderen-termijn',
        'pip.verwijderen-uren',
      ].sort(),
    );
  });
});
