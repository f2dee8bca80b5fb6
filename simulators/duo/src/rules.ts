/**
 * The business rules DUO applies to what a gemeente pushes (PIP, MAP/PVT, inburgeringsaanbod),
 * implemented from DUO's published rules (adapters/duo/README.md, "DUO's business rules") on
 * their own:
 * the hub's DUO adapter has a separate implementation, and tests run both on the same cases so
 * a misreading on either side shows up as a disagreement.
 *
 * Pure functions over "facts": what DUO knows about the person at the moment of the request,
 * in plain values, so they can be fed from the simulator's state or from a test table. Every
 * violated rule is reported (DUO answers a list of Foutmeldingen), each with a `fouttekst` of
 * at most 200 characters that starts with the rule id, so a caller can match on the id.
 *
 * Where NOTES.md can be read more than one way, the reading chosen is written next to the
 * check, marked "Reading:".
 */

import { addMonths } from './dates.ts';

export type Leerroute = 'B' | 'O' | 'Z';
export type NiveauPip = 'A2' | 'B1';
export type Doelgroepindeling = 'Asielstatushouder' | 'Gezinsmigrant en overige migrant';
export type JaNee = 'Ja' | 'Nee';

/** Rule id → the rule as NOTES.md states it. */
export const DUO_RULES = {
  'pip.dagtekening-voor-plicht': 'dagtekeningPip not before the start of the inburgeringsplicht',
  'pip.dagtekening-voor-vestiging': 'dagtekeningPip not before the person settled in the gemeente',
  'pip.dagtekening-voor-initieel':
    'for a changed PIP, dagtekeningPip not before the dagtekening of the initial PIP',
  'pip.dagtekening-voor-actueel':
    'for a changed PIP, dagtekeningPip not before the dagtekening of the current PIP',
  'pip.niveau-a2-onderwijsroute': 'niveau A2 is not allowed with leerroute O',
  'pip.niveau-b1-zroute': 'niveau B1 is not allowed with leerroute Z',
  'pip.niveau-a2-eerste-pip-b1route':
    "niveau A2 is not allowed with leerroute B on the person's first PIP anywhere",
  'pip.intensiteit-alleen-b1route': 'geschatteIntensiteitB1Route only with the B1-route',
  'pip.intensiteit-alleen-asiel': 'geschatteIntensiteitB1Route only for asielmigranten',
  'pip.verwijderen-termijn': 'a PIP can only be deleted while no inburgeringstermijn is set',
  'pip.verwijderen-uren': 'a PIP can only be deleted while no course hours are registered',
  'mappvt.geen-actuele-pip': 'the gemeente has a current PIP for the person',
  'mappvt.voldaan-via-zroute': 'the plicht is not yet fulfilled via the Z-route',
  'mappvt.datum-voor-termijn': 'the date is not before the start of the inburgeringstermijn',
  'mappvt.datum-na-zroute': 'the date is not after the Z-route completion',
  'mappvt.datum-in-toekomst': 'the date is not in the future',
  'mappvt.verwijtbaar-zonder-termijn':
    'verwijtbaar only when the termijn is exceeded or ends within two months',
  'mappvt.verwijtbaar-ja-termijn-loopt': "verwijtbaar 'Ja' only when the termijn is exceeded",
  'mappvt.verwijtbaar-nee-termijn-niet-bijna-om':
    "verwijtbaar 'Nee' only when the termijn ends within two months",
  'mappvt.verwijtbaar-datum-binnen-termijn':
    'verwijtbaar never when the date lies before the end of the termijn',
  'aanbod.geen-asielmigrant': 'an inburgeringsaanbod only for asielmigranten',
  'aanbod.geen-pip': 'an inburgeringsaanbod only for a person with a PIP',
  'aanbod.instelling-onbekend': 'the instelling must be known to DUO',
  'aanbod.instelling-geen-keurmerk':
    'the instelling has a Blik op Werk keurmerk, or is a recognised taalschakelinstelling for the onderwijsroute',
  'aanbod.datum-voor-pip': "dates not before the current PIP's dagtekening",
  'aanbod.datum-buiten-termijn': 'dates inside the inburgeringstermijn',
} as const;

export type DuoRuleId = keyof typeof DUO_RULES;

export interface RuleViolation {
  rule: DuoRuleId;
  /** DUO's `Foutmelding.fouttekst`: at most 200 characters, starting with the rule id. */
  fouttekst: string;
}

function violation(rule: DuoRuleId, text: string): RuleViolation {
  const fouttekst = `${rule}: ${text}`;
  return { rule, fouttekst: fouttekst.length > 200 ? `${fouttekst.slice(0, 199)}…` : fouttekst };
}

export interface Termijn {
  startdatum: string;
  /** Exclusive, as DUO's Inburgeringstermijn schema says: the last day of the termijn is the day before. */
  einddatum: string;
}

// ---------------------------------------------------------------------------------------------
// PIP

export interface PipInput {
  dagtekeningPip: string;
  leerroute: Leerroute;
  niveau?: NiveauPip;
  geschatteIntensiteitB1Route?: number;
}

export interface PipRegistratieFacts {
  /** Start of the inburgeringsplicht when DUO has one; without it that check does not apply. */
  plichtBegindatum?: string;
  /**
   * The date the person settled (BRP) in the requesting gemeente; absent when the person is not
   * (yet) settled there.
   */
  vestigingsdatum?: string;
  doelgroep?: Doelgroepindeling;
  /**
   * Dagtekeningen of the requesting gemeente's own PIPs for this person when it registered one
   * before: the new PIP is then a changed PIP.
   */
  gemeentePip?: { initieleDagtekening: string; actueleDagtekening: string };
  /** Whether a PIP of any gemeente is registered for the person (not counting deleted ones). */
  eerderePipBekend: boolean;
}

/** "No niveau sent with B or O means DUO records B1"; with Z nothing is recorded. */
export function recordedNiveau(pip: Pick<PipInput, 'leerroute' | 'niveau'>): NiveauPip | undefined {
  if (pip.niveau !== undefined) return pip.niveau;
  return pip.leerroute === 'Z' ? undefined : 'B1';
}

export function checkPipRegistratie(pip: PipInput, facts: PipRegistratieFacts): RuleViolation[] {
  const out: RuleViolation[] = [];
  const d = pip.dagtekeningPip;

  if (facts.plichtBegindatum !== undefined && d < facts.plichtBegindatum) {
    out.push(
      violation(
        'pip.dagtekening-voor-plicht',
        `dagtekeningPip ${d} ligt voor de begindatum van de inburgeringsplicht (${facts.plichtBegindatum})`,
      ),
    );
  }
  // Reading: a person not settled in the gemeente at all has no settling date the dagtekening
  // could follow, so the rule is broken rather than not applicable.
  if (facts.vestigingsdatum === undefined) {
    out.push(
      violation(
        'pip.dagtekening-voor-vestiging',
        'de persoon is niet gevestigd in de gemeente, dus dagtekeningPip kan niet na de vestiging liggen',
      ),
    );
  } else if (d < facts.vestigingsdatum) {
    out.push(
      violation(
        'pip.dagtekening-voor-vestiging',
        `dagtekeningPip ${d} ligt voor de vestigingsdatum in de gemeente (${facts.vestigingsdatum})`,
      ),
    );
  }
  // Reading: "the initial or the current PIP" are the requesting gemeente's own; a PIP from a
  // previous gemeente does not make this one a change (the new gemeente sets its own initial PIP).
  if (facts.gemeentePip) {
    const { initieleDagtekening, actueleDagtekening } = facts.gemeentePip;
    if (d < initieleDagtekening) {
      out.push(
        violation(
          'pip.dagtekening-voor-initieel',
          `dagtekeningPip ${d} van het gewijzigde PIP ligt voor die van het initiele PIP (${initieleDagtekening})`,
        ),
      );
    }
    if (d < actueleDagtekening) {
      out.push(
        violation(
          'pip.dagtekening-voor-actueel',
          `dagtekeningPip ${d} van het gewijzigde PIP ligt voor die van het actuele PIP (${actueleDagtekening})`,
        ),
      );
    }
  }

  // Only a niveau actually sent is checked: the B1 DUO records for a missing one is allowed
  // with B and O by construction.
  if (pip.niveau === 'A2' && pip.leerroute === 'O') {
    out.push(
      violation('pip.niveau-a2-onderwijsroute', 'niveau A2 is niet toegestaan bij leerroute O'),
    );
  }
  if (pip.niveau === 'B1' && pip.leerroute === 'Z') {
    out.push(violation('pip.niveau-b1-zroute', 'niveau B1 is niet toegestaan bij leerroute Z'));
  }
  // Reading: "first PIP anywhere" = no gemeente has a PIP registered for the person; a PIP
  // that was deleted again never counted.
  if (pip.niveau === 'A2' && pip.leerroute === 'B' && !facts.eerderePipBekend) {
    out.push(
      violation(
        'pip.niveau-a2-eerste-pip-b1route',
        'niveau A2 is niet toegestaan bij leerroute B in het eerste PIP van de persoon',
      ),
    );
  }

  if (pip.geschatteIntensiteitB1Route !== undefined) {
    if (pip.leerroute !== 'B') {
      out.push(
        violation(
          'pip.intensiteit-alleen-b1route',
          `geschatteIntensiteitB1Route is alleen toegestaan bij leerroute B, niet bij ${pip.leerroute}`,
        ),
      );
    }
    // Reading: "asielmigranten" is the doelgroep indeling Asielstatushouder; an unknown
    // doelgroep does not qualify.
    if (facts.doelgroep !== 'Asielstatushouder') {
      out.push(
        violation(
          'pip.intensiteit-alleen-asiel',
          'geschatteIntensiteitB1Route is alleen toegestaan voor asielstatushouders',
        ),
      );
    }
  }
  return out;
}

export interface PipVerwijderingFacts {
  termijnGezet: boolean;
  /**
   * Reading: "course hours" are the taalles hours (`uren/participatietaalles` and
   * `uren/bredeintake/taallesknm`) of any gemeente, registered with a total above 0;
   * participatieactiviteiten are not course hours, and a total of 0 registers no hours.
   */
  cursusurenGeregistreerd: boolean;
}

export function checkPipVerwijdering(facts: PipVerwijderingFacts): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (facts.termijnGezet) {
    out.push(
      violation(
        'pip.verwijderen-termijn',
        'het PIP kan niet worden verwijderd: de inburgeringstermijn is al vastgesteld',
      ),
    );
  }
  if (facts.cursusurenGeregistreerd) {
    out.push(
      violation(
        'pip.verwijderen-uren',
        'het PIP kan niet worden verwijderd: er zijn cursusuren geregistreerd',
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MAP / PVT

export type MapOfPvt = 'map' | 'pvt';

export interface MapPvtInput {
  /** `datumEindgesprekMap` or `datumOndertekeningPvt`; absent withdraws it (PUT replaces). */
  datum?: string;
  verwijtbaar?: JaNee;
}

export interface MapPvtFacts {
  /** Today in the Netherlands, `YYYY-MM-DD`. */
  today: string;
  /** The requesting gemeente has a current PIP for the person. */
  gemeenteHeeftActuelePip: boolean;
  plichtVoldaanViaZroute: boolean;
  termijn?: Termijn;
  datumAfrondingZroute?: string;
}

export function checkMapPvt(
  kind: MapOfPvt,
  input: MapPvtInput,
  facts: MapPvtFacts,
): RuleViolation[] {
  const out: RuleViolation[] = [];
  const label = kind === 'map' ? 'datumEindgesprekMap' : 'datumOndertekeningPvt';
  const what = kind.toUpperCase();
  if (!facts.gemeenteHeeftActuelePip) {
    out.push(
      violation(
        'mappvt.geen-actuele-pip',
        `de gemeente heeft geen actueel PIP voor de persoon (${what})`,
      ),
    );
  }
  if (facts.plichtVoldaanViaZroute) {
    out.push(
      violation(
        'mappvt.voldaan-via-zroute',
        `de inburgeringsplicht is al voldaan via de Z-route; ${what} kan niet meer worden gewijzigd`,
      ),
    );
  }
  const { datum, verwijtbaar } = input;
  const termijn = facts.termijn;
  if (datum !== undefined) {
    // Reading: without a termijn (between a first PIP and DUO processing it) there is no
    // start the date could precede, so this check does not apply.
    if (termijn && datum < termijn.startdatum) {
      out.push(
        violation(
          'mappvt.datum-voor-termijn',
          `${label} ${datum} ligt voor de start van de inburgeringstermijn (${termijn.startdatum})`,
        ),
      );
    }
    if (facts.datumAfrondingZroute !== undefined && datum > facts.datumAfrondingZroute) {
      out.push(
        violation(
          'mappvt.datum-na-zroute',
          `${label} ${datum} ligt na de afronding van de Z-route (${facts.datumAfrondingZroute})`,
        ),
      );
    }
    if (datum > facts.today) {
      out.push(violation('mappvt.datum-in-toekomst', `${label} ${datum} ligt in de toekomst`));
    }
  }

  if (verwijtbaar !== undefined) {
    // Reading of "verwijtbaar only when the termijn is exceeded ('Ja') or ends within two
    // months ('Nee'), never when the date lies before the end of the termijn":
    // - 'Ja' (culpable) only once the termijn is exceeded: today on or after the (exclusive)
    //   einddatum;
    // - 'Nee' (not culpable) once the termijn ends within two months, read as a comparison
    //   (einddatum − 2 months ≤ today), which includes a termijn already exceeded: a gemeente
    //   that finds the delay not culpable after the end must still be able to say so;
    // - with a date sent that lies before the einddatum (done in time), no verwijtbaar at all;
    // - without a termijn neither condition can hold, so verwijtbaar is refused.
    // "Today" is the day DUO receives the message, not the MAP/PVT date.
    if (!termijn) {
      out.push(
        violation(
          'mappvt.verwijtbaar-zonder-termijn',
          'verwijtbaar kan niet worden doorgegeven: er is geen inburgeringstermijn',
        ),
      );
    } else {
      if (verwijtbaar === 'Ja' && facts.today < termijn.einddatum) {
        out.push(
          violation(
            'mappvt.verwijtbaar-ja-termijn-loopt',
            `verwijtbaar Ja kan pas als de inburgeringstermijn is overschreden (einddatum ${termijn.einddatum})`,
          ),
        );
      }
      if (verwijtbaar === 'Nee' && facts.today < addMonths(termijn.einddatum, -2)) {
        out.push(
          violation(
            'mappvt.verwijtbaar-nee-termijn-niet-bijna-om',
            `verwijtbaar Nee kan pas als de inburgeringstermijn binnen twee maanden eindigt (einddatum ${termijn.einddatum})`,
          ),
        );
      }
      if (datum !== undefined && datum < termijn.einddatum) {
        out.push(
          violation(
            'mappvt.verwijtbaar-datum-binnen-termijn',
            `verwijtbaar is niet toegestaan: ${label} ${datum} ligt voor het einde van de inburgeringstermijn`,
          ),
        );
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Inburgeringsaanbod

export interface AanbodInput {
  datumInburgeringsaanbod?: string;
  verwachteStartdatumOpleiding?: string;
  /** Exclusive end, per the spec. */
  verwachteEinddatumOpleiding?: string;
}

export interface AanbodFacts {
  doelgroep?: Doelgroepindeling;
  /** The person's current PIP (of any gemeente). */
  actuelePip?: { dagtekeningPip: string; leerroute: Leerroute };
  termijn?: Termijn;
  /** The instelling as DUO's list has it; absent when DUO does not know the instellingsnummer. */
  instelling?: { indicatieBowKeurmerk?: boolean; indicatieTstKeurmerk?: boolean };
}

export function checkInburgeringsaanbod(input: AanbodInput, facts: AanbodFacts): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (facts.doelgroep !== 'Asielstatushouder') {
    out.push(
      violation(
        'aanbod.geen-asielmigrant',
        'een inburgeringsaanbod is alleen mogelijk voor asielstatushouders',
      ),
    );
  }
  // Reading: "with a PIP" is a current PIP of any gemeente, the one GET /PIP returns; NOTES
  // does not require it to be the requesting gemeente's (unlike MAP/PVT).
  const pip = facts.actuelePip;
  if (!pip) {
    out.push(
      violation('aanbod.geen-pip', 'een inburgeringsaanbod is alleen mogelijk als er een PIP is'),
    );
  }
  if (!facts.instelling) {
    out.push(violation('aanbod.instelling-onbekend', 'de instelling is niet bekend bij DUO'));
  } else {
    // Reading: a Blik op Werk keurmerk qualifies for every leerroute; a taalschakel (TST)
    // keurmerk alone only for the onderwijsroute. Without a PIP the leerroute is unknown, so
    // only BoW qualifies.
    const { indicatieBowKeurmerk, indicatieTstKeurmerk } = facts.instelling;
    const ok =
      indicatieBowKeurmerk === true || (indicatieTstKeurmerk === true && pip?.leerroute === 'O');
    if (!ok) {
      out.push(
        violation(
          'aanbod.instelling-geen-keurmerk',
          indicatieTstKeurmerk === true
            ? 'de instelling heeft alleen een taalschakelkeurmerk; dat volstaat alleen voor de onderwijsroute'
            : 'de instelling heeft geen Blik op Werk keurmerk',
        ),
      );
    }
  }

  const dates: [keyof AanbodInput, string | undefined][] = [
    ['datumInburgeringsaanbod', input.datumInburgeringsaanbod],
    ['verwachteStartdatumOpleiding', input.verwachteStartdatumOpleiding],
    ['verwachteEinddatumOpleiding', input.verwachteEinddatumOpleiding],
  ];
  for (const [field, d] of dates) {
    if (d === undefined) continue;
    if (pip && d < pip.dagtekeningPip) {
      out.push(
        violation(
          'aanbod.datum-voor-pip',
          `${field} ${d} ligt voor de dagtekening van het actuele PIP (${pip.dagtekeningPip})`,
        ),
      );
    }
    // Reading: "inside the termijn" is [startdatum, einddatum) for the dates that start
    // something, and (since verwachteEinddatumOpleiding is itself an exclusive end)
    // startdatum ≤ d ≤ einddatum for the expected end. Without a termijn no date is inside it.
    const t = facts.termijn;
    const inside =
      t !== undefined &&
      d >= t.startdatum &&
      (field === 'verwachteEinddatumOpleiding' ? d <= t.einddatum : d < t.einddatum);
    if (!inside) {
      out.push(
        violation(
          'aanbod.datum-buiten-termijn',
          t
            ? `${field} ${d} ligt buiten de inburgeringstermijn (${t.startdatum} tot ${t.einddatum})`
            : `${field} ${d} ligt niet binnen een inburgeringstermijn: er is er nog geen`,
        ),
      );
    }
  }
  return out;
}
