/**
 * DUO's business rules (adapters/duo/README.md, "DUO's business rules"), checked in the
 * hub before a melding is sent: a message DUO would refuse is not sent, and the gemeente gets a
 * rejection naming the rule instead of a bounce days later. Pure functions over what the hub
 * knows (pulled from DUO's GET APIs and kept from earlier events); DUO's simulator implements the
 * same rules independently, so the two check each other.
 *
 * Dates are ISO `yyyy-mm-dd` strings; they compare correctly as strings.
 */

export interface RuleViolation {
  /** Stable code, used in the rejection event and in metrics. */
  code: string;
  omschrijving: string;
}

export type Leerroute = 'b1-route' | 'onderwijsroute' | 'z-route';

export interface PipMelding {
  dagtekening: string;
  leerroute: Leerroute;
  niveau?: 'A2' | 'B1';
  geschatteIntensiteitB1Route?: number;
}

export interface PipContext {
  /** DUO's inburgeringsplicht; undefined when DUO has none for the person. */
  plicht?: { plichtig: boolean; begindatum?: string };
  /** When the person settled in the gemeente (BRP), from the KVS's vestiging event. */
  vestigingsdatum?: string;
  doelgroep?: 'asielstatushouder' | 'gezins-of-overige-migrant';
  /** The PIP DUO holds now (any gemeente), undefined when none: then this is a first PIP anywhere. */
  huidigePip?: { dagtekening: string };
  /** The dagtekening of the person's initial PIP, when the hub registered it. */
  initielePipDagtekening?: string;
}

const v = (code: string, omschrijving: string): RuleViolation => ({ code, omschrijving });

export function checkPip(pip: PipMelding, ctx: PipContext): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (ctx.plicht?.begindatum && pip.dagtekening < ctx.plicht.begindatum) {
    out.push(
      v('pip-voor-begin-plicht', 'dagtekeningPip ligt voor het begin van de inburgeringsplicht'),
    );
  }
  if (ctx.vestigingsdatum && pip.dagtekening < ctx.vestigingsdatum) {
    out.push(v('pip-voor-vestiging', 'dagtekeningPip ligt voor de vestiging in de gemeente'));
  }
  const earlier = [ctx.huidigePip?.dagtekening, ctx.initielePipDagtekening].filter(
    (d): d is string => d !== undefined && pip.dagtekening < d,
  );
  if (earlier.length > 0) {
    out.push(
      v(
        'pip-voor-eerdere-pip',
        'dagtekening van een gewijzigd PIP ligt voor die van het initiële of huidige PIP',
      ),
    );
  }
  if (pip.niveau === 'A2' && pip.leerroute === 'onderwijsroute') {
    out.push(v('a2-bij-onderwijsroute', 'niveau A2 is niet toegestaan bij de onderwijsroute'));
  }
  if (pip.niveau === 'B1' && pip.leerroute === 'z-route') {
    out.push(v('b1-bij-z-route', 'niveau B1 is niet toegestaan bij de Z-route'));
  }
  if (pip.niveau === 'A2' && pip.leerroute === 'b1-route' && !ctx.huidigePip) {
    out.push(
      v(
        'a2-bij-b1-route-eerste-pip',
        'niveau A2 is niet toegestaan bij de B1-route in het eerste PIP',
      ),
    );
  }
  if (pip.geschatteIntensiteitB1Route !== undefined) {
    if (pip.leerroute !== 'b1-route') {
      out.push(
        v('intensiteit-alleen-b1-route', 'geschatteIntensiteitB1Route alleen bij de B1-route'),
      );
    }
    if (ctx.doelgroep !== 'asielstatushouder') {
      out.push(
        v('intensiteit-alleen-asiel', 'geschatteIntensiteitB1Route alleen voor asielmigranten'),
      );
    }
  }
  return out;
}

export interface PipIntrekkenContext {
  termijnGezet: boolean;
  /** Course hours (taal- en KNM-lessen, leerroute and brede intake) DUO has; not participation activities. */
  geregistreerdeCursusuren: number;
}

export function checkPipIntrekken(ctx: PipIntrekkenContext): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (ctx.termijnGezet) {
    out.push(
      v(
        'intrekken-termijn-gezet',
        'een PIP kan niet worden ingetrokken als de inburgeringstermijn is vastgesteld',
      ),
    );
  }
  if (ctx.geregistreerdeCursusuren > 0) {
    out.push(
      v(
        'intrekken-uren-geregistreerd',
        'een PIP kan niet worden ingetrokken als er lesuren zijn geregistreerd',
      ),
    );
  }
  return out;
}

export interface MapPvtMelding {
  /** datumEindgesprek (MAP) or datumOndertekening (PVT); absent = withdrawn. */
  datum?: string;
  verwijtbaar?: boolean;
}

export interface MapPvtContext {
  /** Today, ISO date. */
  vandaag: string;
  /** Whether this gemeente holds the person's current PIP. */
  huidigePipVanGemeente: boolean;
  /** The date the plicht was fulfilled through the Z-route, when it was. */
  zrouteVoldaanOp?: string;
  termijn?: { startdatum: string; einddatum: string };
}

function addMonths(iso: string, months: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.toISOString().slice(0, 10);
}

/**
 * MAP and PVT share DUO's rules. Reading of the `verwijtbaar` rule (NOTES.md is terse): a
 * verwijtbaarheid may only be given once the termijn is exceeded or ends within two months; 'Ja'
 * (verwijtbaar) only once it is exceeded; and none at all when the date lies before the end of
 * the termijn, because then the part was done in time.
 */
export function checkMapPvt(m: MapPvtMelding, ctx: MapPvtContext): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (!ctx.huidigePipVanGemeente) {
    out.push(v('geen-huidig-pip', 'de gemeente heeft geen huidig PIP voor deze persoon'));
  }
  if (ctx.zrouteVoldaanOp) {
    out.push(v('plicht-voldaan-z-route', 'de inburgeringsplicht is al voldaan via de Z-route'));
  }
  if (m.datum !== undefined) {
    if (ctx.termijn && m.datum < ctx.termijn.startdatum) {
      out.push(v('datum-voor-termijn', 'de datum ligt voor het begin van de inburgeringstermijn'));
    }
    if (ctx.zrouteVoldaanOp && m.datum > ctx.zrouteVoldaanOp) {
      out.push(v('datum-na-z-route', 'de datum ligt na de afronding van de Z-route'));
    }
    if (m.datum > ctx.vandaag) out.push(v('datum-in-toekomst', 'de datum ligt in de toekomst'));
  }
  if (m.verwijtbaar !== undefined) {
    const einde = ctx.termijn?.einddatum;
    // DUO's einddatum is exclusive: on that day the termijn is already exceeded.
    const overschreden = einde !== undefined && ctx.vandaag >= einde;
    const bijnaVoorbij = einde !== undefined && einde <= addMonths(ctx.vandaag, 2);
    if (!overschreden && !bijnaVoorbij) {
      out.push(
        v(
          'verwijtbaar-te-vroeg',
          'verwijtbaar alleen als de termijn is overschreden of binnen twee maanden eindigt',
        ),
      );
    } else if (m.verwijtbaar && !overschreden) {
      out.push(
        v(
          'verwijtbaar-ja-voor-einde-termijn',
          "verwijtbaar 'Ja' alleen als de termijn is overschreden",
        ),
      );
    }
    if (einde !== undefined && m.datum !== undefined && m.datum < einde) {
      out.push(
        v(
          'verwijtbaar-bij-tijdige-datum',
          'geen verwijtbaarheid als de datum voor het einde van de termijn ligt',
        ),
      );
    }
  }
  return out;
}

export interface AanbodMelding {
  instellingsnummer: string;
  startdatum: string;
  einddatum?: string;
}

export interface AanbodContext {
  doelgroep?: 'asielstatushouder' | 'gezins-of-overige-migrant';
  huidigePip?: { dagtekening: string };
  bekendeInstellingen: ReadonlySet<string>;
  termijn?: { startdatum: string; einddatum: string };
}

/** Inburgeringsaanbod (the offer at a school), registered when the leerroute starts. */
export function checkAanbod(a: AanbodMelding, ctx: AanbodContext): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (ctx.doelgroep !== 'asielstatushouder' || !ctx.huidigePip) {
    out.push(
      v('aanbod-alleen-asiel-met-pip', 'inburgeringsaanbod alleen voor asielmigranten met een PIP'),
    );
  }
  if (!ctx.bekendeInstellingen.has(a.instellingsnummer)) {
    out.push(
      v(
        'instelling-onbekend',
        'de instelling is niet bekend bij DUO (keurmerk of erkenning ontbreekt)',
      ),
    );
  }
  const dates = [a.startdatum, ...(a.einddatum ? [a.einddatum] : [])];
  if (ctx.huidigePip && dates.some((d) => d < ctx.huidigePip!.dagtekening)) {
    out.push(v('aanbod-voor-pip', 'de data liggen voor de dagtekening van het huidige PIP'));
  }
  if (ctx.termijn && dates.some((d) => d < ctx.termijn!.startdatum || d > ctx.termijn!.einddatum)) {
    out.push(v('aanbod-buiten-termijn', 'de data liggen buiten de inburgeringstermijn'));
  }
  return out;
}

export interface UrenMelding {
  soort: 'participatie-als-taalles' | 'bredeintake-taalles-knm' | 'zroute-participatieactiviteiten';
}

export interface UrenContext {
  /** The leerroute of the PIP DUO holds now; undefined when it holds none. */
  leerroute?: Leerroute;
  doelgroep?: 'asielstatushouder' | 'gezins-of-overige-migrant';
}

/**
 * The hub's own rule on hours (DUO's contract says it, DUO's rules do not list it as a check):
 * participation activities (`participatieactiviteiten`) count for the Z-route of an
 * asielstatushouder only, so hours of that kind for anyone else are a mistake of the sender.
 */
export function checkUren(u: UrenMelding, ctx: UrenContext): RuleViolation[] {
  if (u.soort !== 'zroute-participatieactiviteiten') return [];
  return ctx.leerroute === 'z-route' && ctx.doelgroep === 'asielstatushouder'
    ? []
    : [
        v(
          'participatieactiviteiten-alleen-z-route-asiel',
          'uren participatieactiviteiten alleen voor een asielstatushouder met een PIP met de Z-route',
        ),
      ];
}

export interface ZrouteMelding {
  /** datumAfrondingZroute; absent = withdrawn. */
  datum?: string;
}

export interface ZrouteContext {
  vandaag: string;
  /** Whether this gemeente holds the person's current PIP. */
  huidigePipVanGemeente: boolean;
  /** The leerroute of that PIP. */
  leerroute?: Leerroute;
  termijn?: { startdatum: string; einddatum: string };
  /** The MAP's datumEindgesprek and the PVT's datumOndertekening DUO holds (GET map, GET pvt). */
  mapDatum?: string;
  pvtDatum?: string;
}

/**
 * The completion of the Z-route (PUT /zroute, a whole resource). DUO's rules (README) cover
 * MAP and PVT, whose dates may not lie after the Z-route's completion; read together, the
 * completion needs the gemeente's current PIP with the Z-route, is not in the future nor before
 * the termijn, and not before a MAP or PVT date DUO already holds (reconciled by GET map and
 * GET pvt before the PUT replaces the resource), which DUO would otherwise hold in breach of its
 * own rule.
 */
export function checkZroute(z: ZrouteMelding, ctx: ZrouteContext): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (!ctx.huidigePipVanGemeente) {
    out.push(v('geen-huidig-pip', 'de gemeente heeft geen huidig PIP voor deze persoon'));
  }
  if (ctx.leerroute !== 'z-route') {
    out.push(
      v(
        'zroute-alleen-bij-z-route',
        'de afronding van de Z-route alleen bij een PIP met de Z-route',
      ),
    );
  }
  if (z.datum !== undefined) {
    if (z.datum > ctx.vandaag) out.push(v('datum-in-toekomst', 'de datum ligt in de toekomst'));
    if (ctx.termijn && z.datum < ctx.termijn.startdatum) {
      out.push(v('datum-voor-termijn', 'de datum ligt voor het begin van de inburgeringstermijn'));
    }
    const later = [ctx.mapDatum, ctx.pvtDatum].filter(
      (d): d is string => d !== undefined && d > z.datum!,
    );
    if (later.length > 0) {
      out.push(
        v(
          'zroute-voor-map-of-pvt',
          'de afronding van de Z-route ligt voor de datum van de MAP of het PVT die DUO heeft',
        ),
      );
    }
  }
  return out;
}
