import type {
  ExamenResultaat,
  InburgeringsplichtGewijzigd,
  InburgeringstermijnGestart,
  LeerbaarheidstoetsAfgerond,
  MapAfgerond,
  OntheffingVerleend,
  PipVastgesteld,
  PvtOndertekend,
  VrijstellingVerleend,
} from '@ketenhub/contracts/generated';
import type {
  DuoDoelgroep,
  DuoExamenresultaten,
  DuoInburgeringsplicht,
  DuoInburgeringstermijn,
  DuoLbtResultaten,
  DuoOntheffingen,
  DuoPip,
  DuoResultaatMap,
  DuoResultaatPvt,
  DuoVrijstellingen,
} from '@ketenhub/contracts/generated/duo';

/**
 * Pure translations between DUO's M2M payloads and the chain's events. DUO speaks in codes and
 * Dutch labels ('B', 'Asielstatushouder', scores '7,50'); the chain in stable lower-case values
 * and numbers, so a relabelling in a DUO minor version stays inside this file.
 */

const REDEN: Record<NonNullable<DuoInburgeringsplicht['redenGeenInburgeringsplicht']>, string> = {
  'Volledige ontheffing': 'volledige-ontheffing',
  'Volledige vrijstelling': 'volledige-vrijstelling',
  'Inburgeringsplicht voldaan': 'plicht-voldaan',
  'Verblijfsdoel gewijzigd': 'verblijfsdoel-gewijzigd',
  'Vertrek uit Nederland langer dan een jaar': 'vertrek-buitenland',
  Overlijden: 'overlijden',
  Overig: 'overig',
  'Tijdelijke vrijstelling': 'tijdelijke-vrijstelling',
};

type Plicht = InburgeringsplichtGewijzigd['inburgeringsplicht'];
type Doelgroep = NonNullable<InburgeringsplichtGewijzigd['doelgroep']>;

export function plichtFromDuo(p: DuoInburgeringsplicht): Plicht {
  return {
    plichtig: p.indicatorInburgeringsplicht,
    ...(p.begindatum ? { begindatum: p.begindatum } : {}),
    ...(p.einddatum ? { einddatum: p.einddatum } : {}),
    ...(p.wijzigingsdatum ? { wijzigingsdatum: p.wijzigingsdatum } : {}),
    ...(p.datumKennisgevingInburgeringsplicht
      ? { datumKennisgeving: p.datumKennisgevingInburgeringsplicht }
      : {}),
    ...(p.redenGeenInburgeringsplicht
      ? { redenGeenPlicht: REDEN[p.redenGeenInburgeringsplicht] as Plicht['redenGeenPlicht'] }
      : {}),
  };
}

export function doelgroepFromDuo(d: DuoDoelgroep): Doelgroep | undefined {
  if (!d.indeling) return undefined;
  return {
    indeling:
      d.indeling === 'Asielstatushouder' ? 'asielstatushouder' : 'gezins-of-overige-migrant',
    ...(d.begindatum ? { begindatum: d.begindatum } : {}),
    ...(d.gedetailleerdeDoelgroep ? { gedetailleerd: d.gedetailleerdeDoelgroep } : {}),
  };
}

/** '7,50' → 7.5 (DUO writes scores as text with a decimal comma). */
export function score(text: string): number {
  if (!/^[0-9]{1,3},[0-9]{2}$/.test(text)) throw new Error(`not a DUO score: ${text}`);
  return Number(text.replace(',', '.'));
}

const UITSLAG = {
  'B1-route haalbaar': 'b1-route-haalbaar',
  'B1-route niet haalbaar': 'b1-route-niet-haalbaar',
  Onbekend: 'onbekend',
} as const;

export function lbtFromDuo(r: DuoLbtResultaten): LeerbaarheidstoetsAfgerond['resultaten'] {
  return r.map((x) => ({
    uitslag: UITSLAG[x.resultaat],
    behaaldeScore: score(x.behaaldeScore),
    benodigdeScore: score(x.benodigdeScore),
    datumAfname: x.datumAfname,
  }));
}

/** The day before an ISO date (`2028-03-01` → `2028-02-29`). */
function dayBefore(iso: string): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/**
 * DUO's termijn → the chain's. DUO's `einddatum` is exclusive (the first day past the termijn),
 * so the chain carries it as DUO gives it and the inclusive `laatsteDag` beside it.
 */
export function termijnFromDuo(t: DuoInburgeringstermijn): InburgeringstermijnGestart['termijn'] {
  return {
    startdatum: t.startdatum,
    einddatum: t.einddatum,
    laatsteDag: dayBefore(t.einddatum),
    ...(t.wijzigingsdatum ? { wijzigingsdatum: t.wijzigingsdatum } : {}),
    ...(t.verlengingsgrondcode
      ? {
          verlenging: {
            code: t.verlengingsgrondcode,
            omschrijving: t.verlengingsgrondomschrijving ?? '',
          },
        }
      : {}),
  };
}

const ONDERDEEL = {
  KNM: 'knm',
  LE: 'lezen',
  LU: 'luisteren',
  SC: 'schrijven',
  SP: 'spreken',
} as const;
const RESULTAAT = { Geslaagd: 'geslaagd', Gezakt: 'gezakt', Geen: 'geen' } as const;
const REDEN_GEEN = {
  Verwijtbaar: 'verwijtbaar',
  Nietverwijtbaar: 'niet-verwijtbaar',
  Afgemeld: 'afgemeld',
  Absent: 'absent',
} as const;

export function examensFromDuo(r: DuoExamenresultaten): ExamenResultaat['resultaten'] {
  return r.map((x) => ({
    examendatum: x.examendatum,
    onderdeel: ONDERDEEL[x.onderdeel],
    resultaat: RESULTAAT[x.resultaat],
    ...(x.niveau ? { niveau: x.niveau } : {}),
    ...(x.redenGeenResultaat ? { redenGeenResultaat: REDEN_GEEN[x.redenGeenResultaat] } : {}),
  }));
}

const OORDEEL = { Toekenning: 'toekenning', Afwijzing: 'afwijzing' } as const;
const GROND = { BIO: 'bijzondere-individuele-omstandigheden', MED: 'medisch' } as const;

/**
 * DUO's ontheffingen → the chain's: one entry per decision DUO holds, granted or refused (a DUO
 * item carries its decision under the key of its kind; should one carry both, both are kept).
 */
export function ontheffingenFromDuo(r: DuoOntheffingen): OntheffingVerleend['ontheffingen'] {
  return r.flatMap((x) => [
    ...(x.GeheleOntheffing
      ? [
          {
            soort: 'geheel' as const,
            oordeel: OORDEEL[x.GeheleOntheffing.oordeel],
            datumOordeel: x.GeheleOntheffing.datumOordeel,
            grond: GROND[x.GeheleOntheffing.grond],
          },
        ]
      : []),
    ...(x.GedeeltelijkeOntheffing
      ? [
          {
            soort: 'gedeeltelijk' as const,
            oordeel: OORDEEL[x.GedeeltelijkeOntheffing.oordeel],
            datumOordeel: x.GedeeltelijkeOntheffing.datumOordeel,
            grond: GROND[x.GedeeltelijkeOntheffing.grond],
            ...(x.GedeeltelijkeOntheffing.examenonderdeel
              ? { examenonderdeel: ONDERDEEL[x.GedeeltelijkeOntheffing.examenonderdeel] }
              : {}),
            // 0 is a value of its own (no participation at all), not an absent one.
            ...(x.GedeeltelijkeOntheffing.urenBelastbaarheidParticipatieactiviteit !== undefined
              ? {
                  urenBelastbaarheidParticipatieactiviteit:
                    x.GedeeltelijkeOntheffing.urenBelastbaarheidParticipatieactiviteit,
                }
              : {}),
          },
        ]
      : []),
  ]);
}

/** DUO's reden of a vrijstelling (a code) → the chain's. */
const VRIJSTELLINGSREDEN = {
  AVI: 'aantoonbaar-ingeburgerd',
  DIP: 'diploma',
  DOC: 'document',
  GED: 'taalonderdeel',
  INB: 'inburgeringsdiploma-wi2013',
  INS: 'inschrijving-opleiding',
  OPL: 'vervolgopleiding',
} as const;

type VrijstellingEntry = VrijstellingVerleend['vrijstellingen'][number];
type DuoVrijstelling = DuoVrijstellingen[number];

/**
 * DUO's vrijstellingen → the chain's: one entry per decision, granted or refused. A temporary
 * vrijstelling's einddatum is its last day (DUO: inclusive), carried as DUO gives it.
 */
export function vrijstellingenFromDuo(
  r: DuoVrijstellingen,
): VrijstellingVerleend['vrijstellingen'] {
  const common = (
    soort: VrijstellingEntry['soort'],
    v: NonNullable<DuoVrijstelling[keyof DuoVrijstelling]>,
  ): VrijstellingEntry => ({
    soort,
    oordeel: OORDEEL[v.oordeel],
    reden: VRIJSTELLINGSREDEN[v.reden],
    ...(v.datumOordeel ? { datumOordeel: v.datumOordeel } : {}),
  });
  return r.flatMap((x) => [
    ...(x.GeheleVrijstelling ? [common('geheel', x.GeheleVrijstelling)] : []),
    ...(x.TijdelijkeVrijstelling
      ? [
          {
            ...common('tijdelijk', x.TijdelijkeVrijstelling),
            ...(x.TijdelijkeVrijstelling.startdatum
              ? { startdatum: x.TijdelijkeVrijstelling.startdatum }
              : {}),
            ...(x.TijdelijkeVrijstelling.einddatum
              ? { einddatum: x.TijdelijkeVrijstelling.einddatum }
              : {}),
          },
        ]
      : []),
    ...(x.GedeeltelijkeVrijstelling
      ? [
          {
            ...common('gedeeltelijk', x.GedeeltelijkeVrijstelling),
            ...(x.GedeeltelijkeVrijstelling.examenonderdeel
              ? { examenonderdeel: ONDERDEEL[x.GedeeltelijkeVrijstelling.examenonderdeel] }
              : {}),
            ...(x.GedeeltelijkeVrijstelling.examenniveau
              ? { examenniveau: x.GedeeltelijkeVrijstelling.examenniveau }
              : {}),
          },
        ]
      : []),
  ]);
}

const LEERROUTE = { 'b1-route': 'B', onderwijsroute: 'O', 'z-route': 'Z' } as const;
/** DUO's leerroute code (`B`/`O`/`Z`) → the chain's; undefined for a code the hub does not know. */
export const leerrouteFromDuo = (code: string | undefined) =>
  (Object.entries(LEERROUTE) as [keyof typeof LEERROUTE, string][]).find(
    ([, c]) => c === code,
  )?.[0];
const ALFA = { analfabeet: 'A', 'anders-analfabeet': 'AA', 'niet-van-toepassing': 'NVT' } as const;

/** The gemeente's PIP → DUO's POST body (PIP 1.2.0). */
export function pipToDuo(p: Partial<PipVastgesteld>): DuoPip {
  if (!p.dagtekening || !p.leerroute) throw new Error('a PIP needs dagtekening and leerroute');
  return {
    dagtekeningPip: p.dagtekening,
    leerroute: LEERROUTE[p.leerroute],
    ...(p.niveau ? { niveau: p.niveau } : {}),
    ...(p.geschatteIntensiteitB1Route !== undefined
      ? { geschatteIntensiteitB1Route: p.geschatteIntensiteitB1Route }
      : {}),
    ...(p.magOpleidingAfmaken !== undefined
      ? { indicatorMagOpleidingAfmaken: p.magOpleidingAfmaken }
      : {}),
    ...(p.alfabetisering ? { indicatorAlfabetiseringsonderwijs: ALFA[p.alfabetisering] } : {}),
  };
}

const jaNee = (b: boolean) => (b ? 'Ja' : 'Nee');

/** MAP as a whole resource: what is left out is withdrawn at DUO. */
export function mapToDuo(m: Partial<MapAfgerond>): DuoResultaatMap {
  return {
    ...(m.datumEindgesprek ? { datumEindgesprekMap: m.datumEindgesprek } : {}),
    ...(m.verwijtbaar !== undefined ? { verwijtbaar: jaNee(m.verwijtbaar) } : {}),
  };
}

export function pvtToDuo(p: Partial<PvtOndertekend>): DuoResultaatPvt {
  return {
    ...(p.datumOndertekening ? { datumOndertekeningPvt: p.datumOndertekening } : {}),
    ...(p.verwijtbaar !== undefined ? { verwijtbaar: jaNee(p.verwijtbaar) } : {}),
  };
}

/**
 * DUO's hour kinds: the URL segment under /personen/{bsn}/uren/ (each kind's meaning, in DUO's
 * words, is in the chain contract's `UrenSoort`).
 */
export const UREN_PAD = {
  'participatie-als-taalles': 'participatietaalles',
  'bredeintake-taalles-knm': 'bredeintake/taallesknm',
  'zroute-participatieactiviteiten': 'participatieactiviteiten',
} as const;

/**
 * The kinds DUO counts as course hours (cursusuren) in its GET /uren answer: taal- en KNM-lessen
 * of the leerroute and of the brede intake. Participation activities are not (the rule on
 * withdrawing a PIP concerns course hours only).
 */
export const CURSUSUREN = ['ParticipatieAlsTaalles', 'TaallesEnKnmBredeIntake'] as const;
