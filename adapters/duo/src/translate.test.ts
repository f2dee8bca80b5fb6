import { describe, expect, it } from 'vitest';
import { schemas } from '@ketenhub/contracts';
import {
  doelgroepFromDuo,
  examensFromDuo,
  lbtFromDuo,
  mapToDuo,
  pipToDuo,
  plichtFromDuo,
  pvtToDuo,
  score,
  termijnFromDuo,
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
