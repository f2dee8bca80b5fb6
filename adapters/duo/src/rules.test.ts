import { describe, expect, it } from 'vitest';
import {
  checkAanbod,
  checkMapPvt,
  checkPip,
  checkPipIntrekken,
  checkUren,
  checkZroute,
  type AanbodContext,
  type MapPvtContext,
  type PipContext,
  type PipMelding,
  type ZrouteContext,
} from './rules.ts';

const codes = (vs: { code: string }[]) => vs.map((x) => x.code);

describe('PIP rules', () => {
  const ctx: PipContext = {
    plicht: { plichtig: true, begindatum: '2026-03-01' },
    vestigingsdatum: '2026-04-01',
    doelgroep: 'asielstatushouder',
  };
  const pip: PipMelding = { dagtekening: '2026-05-01', leerroute: 'b1-route', niveau: 'B1' };

  it('passes a sound first PIP', () => expect(checkPip(pip, ctx)).toEqual([]));

  it.each([
    ['pip-voor-begin-plicht', { ...pip, dagtekening: '2026-02-01' }, ctx, 'pip-voor-begin-plicht'],
    ['pip-voor-vestiging', { ...pip, dagtekening: '2026-03-15' }, ctx, 'pip-voor-vestiging'],
    [
      'pip-voor-eerdere-pip (current)',
      { ...pip, dagtekening: '2026-05-10' },
      { ...ctx, huidigePip: { dagtekening: '2026-06-01' } },
      'pip-voor-eerdere-pip',
    ],
    [
      'pip-voor-eerdere-pip (initial)',
      { ...pip, dagtekening: '2026-05-10' },
      { ...ctx, huidigePip: { dagtekening: '2026-05-01' }, initielePipDagtekening: '2026-05-20' },
      'pip-voor-eerdere-pip',
    ],
    [
      'a2-bij-onderwijsroute',
      { ...pip, leerroute: 'onderwijsroute', niveau: 'A2' },
      ctx,
      'a2-bij-onderwijsroute',
    ],
    ['b1-bij-z-route', { ...pip, leerroute: 'z-route', niveau: 'B1' }, ctx, 'b1-bij-z-route'],
    ['a2-bij-b1-route-eerste-pip', { ...pip, niveau: 'A2' }, ctx, 'a2-bij-b1-route-eerste-pip'],
    [
      'intensiteit-alleen-b1-route',
      { ...pip, leerroute: 'z-route', niveau: undefined, geschatteIntensiteitB1Route: 400 },
      ctx,
      'intensiteit-alleen-b1-route',
    ],
    [
      'intensiteit-alleen-asiel',
      { ...pip, geschatteIntensiteitB1Route: 400 },
      { ...ctx, doelgroep: 'gezins-of-overige-migrant' },
      'intensiteit-alleen-asiel',
    ],
  ] as [string, PipMelding, PipContext, string][])('refuses %s', (_, melding, context, code) => {
    expect(codes(checkPip(melding, context))).toContain(code);
  });

  it.each([
    [
      'a changed PIP on or after the current one',
      { ...pip, dagtekening: '2026-06-01' },
      { ...ctx, huidigePip: { dagtekening: '2026-06-01' } },
    ],
    [
      'A2 with the B1-route when it is not the first PIP',
      { ...pip, niveau: 'A2' },
      { ...ctx, huidigePip: { dagtekening: '2026-04-15' } },
    ],
    ['A2 with the Z-route', { ...pip, leerroute: 'z-route', niveau: 'A2' }, ctx],
    ['B1 with the onderwijsroute', { ...pip, leerroute: 'onderwijsroute', niveau: 'B1' }, ctx],
    [
      'an intensity for an asielmigrant on the B1-route',
      { ...pip, geschatteIntensiteitB1Route: 600 },
      ctx,
    ],
    [
      'a PIP on the day the plicht starts and the person settles',
      { ...pip, dagtekening: '2026-04-01' },
      ctx,
    ],
  ] as [string, PipMelding, PipContext][])('accepts %s', (_, melding, context) => {
    expect(checkPip(melding, context)).toEqual([]);
  });
});

describe('withdrawing a PIP', () => {
  it('is allowed while no termijn and no hours are registered', () => {
    expect(checkPipIntrekken({ termijnGezet: false, geregistreerdeCursusuren: 0 })).toEqual([]);
  });
  it('is refused once the termijn is set', () => {
    expect(codes(checkPipIntrekken({ termijnGezet: true, geregistreerdeCursusuren: 0 }))).toEqual([
      'intrekken-termijn-gezet',
    ]);
  });
  it('is refused once course hours are registered', () => {
    expect(codes(checkPipIntrekken({ termijnGezet: false, geregistreerdeCursusuren: 12 }))).toEqual(
      ['intrekken-uren-geregistreerd'],
    );
  });
});

describe('the kind of hours', () => {
  const z = 'zroute-participatieactiviteiten' as const;
  it.each([
    [
      'Z-route participation activities of a Z-route asielstatushouder',
      z,
      'z-route',
      'asielstatushouder',
    ],
    [
      'course hours on the B1-route',
      'participatie-als-taalles',
      'b1-route',
      'gezins-of-overige-migrant',
    ],
    ['brede-intake course hours without a PIP', 'bredeintake-taalles-knm', undefined, undefined],
  ] as const)('accepts %s', (_c, soort, leerroute, doelgroep) => {
    expect(
      checkUren(
        { soort },
        { ...(leerroute ? { leerroute } : {}), ...(doelgroep ? { doelgroep } : {}) },
      ),
    ).toEqual([]);
  });
  it.each([
    ['on the B1-route', 'b1-route', 'asielstatushouder'],
    ['on the onderwijsroute', 'onderwijsroute', 'asielstatushouder'],
    ['for a gezinsmigrant on the Z-route', 'z-route', 'gezins-of-overige-migrant'],
    ['without a PIP at DUO', undefined, 'asielstatushouder'],
    ['without a doelgroep at DUO', 'z-route', undefined],
  ] as const)('refuses participation activities %s', (_c, leerroute, doelgroep) => {
    expect(
      codes(
        checkUren(
          { soort: z },
          { ...(leerroute ? { leerroute } : {}), ...(doelgroep ? { doelgroep } : {}) },
        ),
      ),
    ).toEqual(['participatieactiviteiten-alleen-z-route-asiel']);
  });
});

describe('MAP / PVT rules', () => {
  const ctx: MapPvtContext = {
    vandaag: '2027-06-01',
    huidigePipVanGemeente: true,
    termijn: { startdatum: '2026-05-01', einddatum: '2029-05-01' },
  };

  it('passes a date inside the termijn, not in the future', () => {
    expect(checkMapPvt({ datum: '2027-05-20' }, ctx)).toEqual([]);
  });
  it('passes a withdrawal (no fields): whole-resource semantics', () => {
    expect(checkMapPvt({}, ctx)).toEqual([]);
  });
  it.each([
    ['geen-huidig-pip', { datum: '2027-05-20' }, { ...ctx, huidigePipVanGemeente: false }],
    ['plicht-voldaan-z-route', { datum: '2027-01-20' }, { ...ctx, zrouteVoldaanOp: '2027-02-01' }],
    ['datum-voor-termijn', { datum: '2026-04-20' }, ctx],
    ['datum-na-z-route', { datum: '2027-03-01' }, { ...ctx, zrouteVoldaanOp: '2027-02-01' }],
    ['datum-in-toekomst', { datum: '2027-06-02' }, ctx],
    ['verwijtbaar-te-vroeg', { datum: '2027-05-20', verwijtbaar: false }, ctx],
    ['verwijtbaar-ja-voor-einde-termijn', { verwijtbaar: true }, { ...ctx, vandaag: '2029-04-01' }],
    [
      'verwijtbaar-bij-tijdige-datum',
      { datum: '2029-03-15', verwijtbaar: false },
      { ...ctx, vandaag: '2029-04-01' },
    ],
  ] as [string, { datum?: string; verwijtbaar?: boolean }, MapPvtContext][])(
    'refuses %s',
    (code, melding, context) => {
      expect(codes(checkMapPvt(melding, context))).toContain(code);
    },
  );
  it('accepts verwijtbaar Nee when the termijn ends within two months and nothing was done', () => {
    expect(checkMapPvt({ verwijtbaar: false }, { ...ctx, vandaag: '2029-04-01' })).toEqual([]);
  });
  it('accepts verwijtbaar Ja once the termijn is exceeded, with a date after its end', () => {
    expect(
      checkMapPvt({ datum: '2029-06-01', verwijtbaar: true }, { ...ctx, vandaag: '2029-07-01' }),
    ).toEqual([]);
  });
});

describe('inburgeringsaanbod rules', () => {
  const ctx: AanbodContext = {
    doelgroep: 'asielstatushouder',
    huidigePip: { dagtekening: '2026-05-01' },
    bekendeInstellingen: new Set(['00AB12']),
    termijn: { startdatum: '2026-05-01', einddatum: '2029-05-01' },
  };
  const aanbod = { instellingsnummer: '00AB12', startdatum: '2026-06-01' };
  it('passes an offer at a known school inside the termijn', () =>
    expect(checkAanbod(aanbod, ctx)).toEqual([]));
  it.each([
    ['aanbod-alleen-asiel-met-pip', aanbod, { ...ctx, doelgroep: 'gezins-of-overige-migrant' }],
    ['instelling-onbekend', { ...aanbod, instellingsnummer: '99ZZ99' }, ctx],
    ['aanbod-voor-pip', { ...aanbod, startdatum: '2026-04-20' }, { ...ctx, termijn: undefined }],
    ['aanbod-buiten-termijn', { ...aanbod, einddatum: '2029-06-01' }, ctx],
  ] as [string, typeof aanbod & { einddatum?: string }, AanbodContext][])(
    'refuses %s',
    (code, a, context) => {
      expect(codes(checkAanbod(a, context))).toContain(code);
    },
  );
});

describe('the completion of the Z-route', () => {
  const ctx: ZrouteContext = {
    vandaag: '2027-06-01',
    huidigePipVanGemeente: true,
    leerroute: 'z-route',
    termijn: { startdatum: '2026-09-15', einddatum: '2029-09-15' },
    mapDatum: '2027-03-01',
    pvtDatum: '2026-12-01',
  };
  it('is accepted for a Z-route PIP of this gemeente, dated after MAP and PVT, in the past', () => {
    expect(checkZroute({ datum: '2027-05-20' }, ctx)).toEqual([]);
    expect(checkZroute({ datum: '2027-03-01' }, ctx)).toEqual([]);
    // Withdrawn (no date): only the PIP and the route matter.
    expect(checkZroute({}, { ...ctx, vandaag: '2026-01-01' })).toEqual([]);
  });
  it.each([
    ['geen-huidig-pip', { datum: '2027-05-20' }, { huidigePipVanGemeente: false }],
    ['zroute-alleen-bij-z-route', { datum: '2027-05-20' }, { leerroute: 'b1-route' as const }],
    ['zroute-alleen-bij-z-route', { datum: '2027-05-20' }, { leerroute: undefined }],
    ['datum-in-toekomst', { datum: '2027-06-02' }, {}],
    ['datum-voor-termijn', { datum: '2026-09-14' }, { mapDatum: undefined, pvtDatum: undefined }],
    ['zroute-voor-map-of-pvt', { datum: '2027-02-28' }, {}],
    ['zroute-voor-map-of-pvt', { datum: '2026-11-30' }, { mapDatum: undefined }],
  ] as const)('is refused: %s', (code, melding, change) => {
    expect(codes(checkZroute(melding, { ...ctx, ...change } as ZrouteContext))).toEqual([code]);
  });
});
