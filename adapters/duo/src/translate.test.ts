import { describe, expect, it } from 'vitest';
import { schemas } from '@ketenhub/contracts';
import {
  doelgroepFromDuo,
  examensFromDuo,
  lbtFromDuo,
  mapToDuo,
  ontheffingenFromDuo,
  pipToDuo,
  plichtFromDuo,
  pvtToDuo,
  score,
  termijnFromDuo,
  vrijstellingenFromDuo,
} from './translate.ts';
import { zrouteToDuo } from './zroute.ts';

const valid = (id: string, value: unknown) => expect(schemas().validate(id, value)).toEqual([]);

describe('DUO → chain', () => {
  it('reads scores with a decimal comma', () => {
    expect(score('7,50')).toBe(7.5);
    expect(score('100,00')).toBe(100);
    expect(() => score('7.5')).toThrow(/not a DUO score/);
  });
  it('maps plicht, doelgroep, lbt, termijn and exams to the chain vocabulary', () => {
    expect(
      plichtFromDuo({
        indicatorInburgeringsplicht: false,
        begindatum: '2026-03-01',
        einddatum: '2028-03-01',
        redenGeenInburgeringsplicht: 'Inburgeringsplicht voldaan',
      }),
    ).toEqual({
      plichtig: false,
      begindatum: '2026-03-01',
      einddatum: '2028-03-01',
      redenGeenPlicht: 'plicht-voldaan',
    });
    expect(
      doelgroepFromDuo({ indeling: 'Gezinsmigrant en overige migrant', begindatum: '2026-01-01' }),
    ).toEqual({
      indeling: 'gezins-of-overige-migrant',
      begindatum: '2026-01-01',
    });
    expect(
      lbtFromDuo([
        {
          resultaat: 'B1-route haalbaar',
          behaaldeScore: '61,25',
          benodigdeScore: '55,00',
          datumAfname: '2026-05-02',
        },
      ]),
    ).toEqual([
      {
        uitslag: 'b1-route-haalbaar',
        behaaldeScore: 61.25,
        benodigdeScore: 55,
        datumAfname: '2026-05-02',
      },
    ]);
    expect(
      termijnFromDuo({
        startdatum: '2026-06-01',
        einddatum: '2029-06-01',
        verlengingsgrondcode: 'ZK',
        verlengingsgrondomschrijving: 'Ziekte',
      }),
    ).toEqual({
      startdatum: '2026-06-01',
      einddatum: '2029-06-01',
      // DUO's einddatum is exclusive: the last day of the termijn is the day before.
      laatsteDag: '2029-05-31',
      verlenging: { code: 'ZK', omschrijving: 'Ziekte' },
    });
    expect(termijnFromDuo({ startdatum: '2024-03-01', einddatum: '2027-03-01' }).laatsteDag).toBe(
      '2027-02-28',
    );
    expect(termijnFromDuo({ startdatum: '2025-03-01', einddatum: '2028-03-01' }).laatsteDag).toBe(
      '2028-02-29',
    );
    expect(
      examensFromDuo([
        { examendatum: '2027-03-03', resultaat: 'Geslaagd', onderdeel: 'LE', niveau: 'B1' },
      ]),
    ).toEqual([
      { examendatum: '2027-03-03', onderdeel: 'lezen', resultaat: 'geslaagd', niveau: 'B1' },
    ]);
  });
});

describe('DUO ontheffingen and vrijstellingen → chain', () => {
  const event = (type: string, data: Record<string, unknown>) =>
    schemas().validateEvent({
      specversion: '1.0',
      id: '6f1c2a4e-0d7b-4b8e-9a53-2f0c6a1e9b10',
      source: 'urn:nld:oin:00000001003214345000:systeem:ketenhub',
      type,
      time: '2026-11-23T10:00:00Z',
      datacontenttype: 'application/json',
      dataschema: schemas().byEventType(type)!.id,
      gemeente: 'gm0797',
      data: { inburgeraarId: `ih-${'a'.repeat(32)}`, gemeenteCode: 'gm0797', ...data },
    });

  it('maps every ontheffing DUO holds, keeping 0 hours of belastbaarheid as a value', () => {
    const ontheffingen = ontheffingenFromDuo([
      { GeheleOntheffing: { oordeel: 'Toekenning', datumOordeel: '2026-06-01', grond: 'MED' } },
      {
        GedeeltelijkeOntheffing: {
          oordeel: 'Toekenning',
          datumOordeel: '2026-07-01',
          grond: 'MED',
          examenonderdeel: 'KNM',
          urenBelastbaarheidParticipatieactiviteit: 0,
        },
      },
      {
        GedeeltelijkeOntheffing: {
          oordeel: 'Afwijzing',
          datumOordeel: '2026-08-01',
          grond: 'BIO',
          examenonderdeel: 'SP',
        },
      },
    ]);
    expect(ontheffingen).toEqual([
      { soort: 'geheel', oordeel: 'toekenning', datumOordeel: '2026-06-01', grond: 'medisch' },
      {
        soort: 'gedeeltelijk',
        oordeel: 'toekenning',
        datumOordeel: '2026-07-01',
        grond: 'medisch',
        examenonderdeel: 'knm',
        urenBelastbaarheidParticipatieactiviteit: 0,
      },
      {
        soort: 'gedeeltelijk',
        oordeel: 'afwijzing',
        datumOordeel: '2026-08-01',
        grond: 'bijzondere-individuele-omstandigheden',
        examenonderdeel: 'spreken',
      },
    ]);
    expect(event('nl.inburgering.ontheffing.verleend', { ontheffingen })).toEqual([]);
    expect(ontheffingenFromDuo([])).toEqual([]);
    // One DUO item carrying two kinds gives two entries.
    expect(
      ontheffingenFromDuo([
        {
          GeheleOntheffing: { oordeel: 'Toekenning', datumOordeel: '2026-06-01', grond: 'BIO' },
          GedeeltelijkeOntheffing: {
            oordeel: 'Toekenning',
            datumOordeel: '2026-06-01',
            grond: 'MED',
            urenBelastbaarheidParticipatieactiviteit: 350,
          },
        },
      ]).map((o) => [o.soort, o.urenBelastbaarheidParticipatieactiviteit]),
    ).toEqual([
      ['geheel', undefined],
      ['gedeeltelijk', 350],
    ]);
  });

  it('maps every vrijstelling, its reden code to a stable value and the temporary period as given', () => {
    const vrijstellingen = vrijstellingenFromDuo([
      { GeheleVrijstelling: { oordeel: 'Toekenning', reden: 'DIP', datumOordeel: '2026-05-01' } },
      {
        TijdelijkeVrijstelling: {
          oordeel: 'Toekenning',
          reden: 'OPL',
          datumOordeel: '2026-09-01',
          startdatum: '2026-09-01',
          einddatum: '2027-08-31',
        },
      },
      {
        GedeeltelijkeVrijstelling: {
          oordeel: 'Afwijzing',
          reden: 'GED',
          examenonderdeel: 'LU',
          examenniveau: 'A2',
        },
      },
    ]);
    expect(vrijstellingen).toEqual([
      { soort: 'geheel', oordeel: 'toekenning', reden: 'diploma', datumOordeel: '2026-05-01' },
      {
        soort: 'tijdelijk',
        oordeel: 'toekenning',
        reden: 'vervolgopleiding',
        datumOordeel: '2026-09-01',
        startdatum: '2026-09-01',
        einddatum: '2027-08-31',
      },
      {
        soort: 'gedeeltelijk',
        oordeel: 'afwijzing',
        reden: 'taalonderdeel',
        examenonderdeel: 'luisteren',
        examenniveau: 'A2',
      },
    ]);
    expect(event('nl.inburgering.vrijstelling.verleend', { vrijstellingen })).toEqual([]);
    const redenen = (['AVI', 'DIP', 'DOC', 'GED', 'INB', 'INS', 'OPL'] as const).map(
      (reden) =>
        vrijstellingenFromDuo([{ GeheleVrijstelling: { oordeel: 'Toekenning', reden } }])[0]!.reden,
    );
    expect(new Set(redenen).size).toBe(7);
    expect(
      event('nl.inburgering.vrijstelling.verleend', {
        vrijstellingen: redenen.map((reden) => ({ soort: 'geheel', oordeel: 'toekenning', reden })),
      }),
    ).toEqual([]);
  });

  it('the contract refuses what DUO does not give: hours out of range, an unknown grond', () => {
    const one = (o: Record<string, unknown>) =>
      event('nl.inburgering.ontheffing.verleend', {
        ontheffingen: [
          {
            soort: 'gedeeltelijk',
            oordeel: 'toekenning',
            datumOordeel: '2026-06-01',
            grond: 'medisch',
            ...o,
          },
        ],
      }).map((v) => v.field);
    expect(one({ urenBelastbaarheidParticipatieactiviteit: 10000 })).toEqual([
      'data.ontheffingen[0].urenBelastbaarheidParticipatieactiviteit',
    ]);
    expect(one({ grond: 'MED' })).toEqual(['data.ontheffingen[0].grond']);
  });
});

describe('chain → DUO', () => {
  it('builds a PIP body DUO accepts', () => {
    const body = pipToDuo({
      dagtekening: '2026-05-01',
      leerroute: 'b1-route',
      niveau: 'B1',
      geschatteIntensiteitB1Route: 600,
      magOpleidingAfmaken: true,
      alfabetisering: 'niet-van-toepassing',
    });
    expect(body).toEqual({
      dagtekeningPip: '2026-05-01',
      leerroute: 'B',
      niveau: 'B1',
      geschatteIntensiteitB1Route: 600,
      indicatorMagOpleidingAfmaken: true,
      indicatorAlfabetiseringsonderwijs: 'NVT',
    });
    valid('https://contracts.ketenhub.nl/duo/pip.schema.json', body);
    expect(pipToDuo({ dagtekening: '2026-05-01', leerroute: 'z-route' })).toEqual({
      dagtekeningPip: '2026-05-01',
      leerroute: 'Z',
    });
  });
  it('sends MAP and PVT as whole resources: a field left out is withdrawn', () => {
    expect(mapToDuo({ datumEindgesprek: '2027-01-10', verwijtbaar: false })).toEqual({
      datumEindgesprekMap: '2027-01-10',
      verwijtbaar: 'Nee',
    });
    expect(mapToDuo({})).toEqual({});
    expect(pvtToDuo({ datumOndertekening: '2026-12-01' })).toEqual({
      datumOndertekeningPvt: '2026-12-01',
    });
    valid(
      'https://contracts.ketenhub.nl/duo/resultaat-pvt.schema.json',
      pvtToDuo({ verwijtbaar: true }),
    );
    expect(zrouteToDuo({ datumAfronding: '2027-05-20' })).toEqual({
      datumAfrondingZroute: '2027-05-20',
    });
    expect(zrouteToDuo({})).toEqual({});
    valid(
      'https://contracts.ketenhub.nl/duo/resultaat-zroute.schema.json',
      zrouteToDuo({ datumAfronding: '2027-05-20' }),
    );
  });
});
