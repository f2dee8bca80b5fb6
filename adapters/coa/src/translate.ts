import type { InburgeraarGekoppeld, InburgeraarOvergedragen } from '@ketenhub/contracts/generated';
import type { CoaKoppeling, CoaWarmeOverdracht } from '@ketenhub/contracts/generated/coa';
import { schemas, type Violation } from '@ketenhub/contracts';
import { ValidationError, buildEvent, nameBasedUuid, type Event } from '@ketenhub/kit';
import {
  assertContract,
  bsnProblem,
  isTestBsn,
  normaliseVnummer,
  vnummerProblem,
  type Pseudonymizer,
} from '@ketenhub/kit/privacy';

export const KOPPELING_SCHEMA = 'https://contracts.ketenhub.nl/coa/koppeling.schema.json';
export const OVERDRACHT_SCHEMA = 'https://contracts.ketenhub.nl/coa/warme-overdracht.schema.json';
export const GEKOPPELD = 'nl.inburgering.inburgeraar.gekoppeld';
export const OVERGEDRAGEN = 'nl.inburgering.inburgeraar.overgedragen';

export interface TranslateContext {
  pseudonymizer: Pseudonymizer;
  /** CBS codes (gm0797) of the gemeenten this hub serves. */
  servedGemeenten: ReadonlySet<string>;
  /** CloudEvents source of the COA adapter. */
  source: string;
  /** Production: BSNs from the 999 test range are refused (they belong to no real person). */
  production?: boolean;
  now?: () => Date;
}

const GESLACHT = { M: 'man', V: 'vrouw', X: 'onbekend' } as const;
const ROL = {
  HOOFDPERSOON: 'hoofdpersoon',
  PARTNER: 'partner',
  KIND: 'kind',
  OVERIG: 'overig',
} as const;

function lower<T extends string>(value: T): Lowercase<T> {
  return value.toLowerCase() as Lowercase<T>;
}

/** Rules beyond the schema that every COA message about a person must meet. */
function personRules(
  persoon: { bsn?: string | undefined; vNummer: string },
  gemeenteCode: string,
  ctx: TranslateContext,
): Violation[] {
  const out: Violation[] = [];
  const vnummer = vnummerProblem(persoon.vNummer);
  if (vnummer) out.push({ field: 'persoon.vNummer', rule: 'vnummer', message: vnummer });
  if (persoon.bsn !== undefined) {
    const problem = bsnProblem(persoon.bsn);
    if (problem) out.push({ field: 'persoon.bsn', rule: 'elfproef', message: problem });
    else if (ctx.production && isTestBsn(persoon.bsn)) {
      out.push({
        field: 'persoon.bsn',
        rule: 'no test BSN in production',
        message: 'is a test number (999 range), not accepted in production',
      });
    }
  }
  if (!ctx.servedGemeenten.has(`gm${gemeenteCode}`)) {
    out.push({
      field: 'gemeenteCode',
      rule: 'served-gemeente',
      message: 'is not a gemeente this hub serves',
    });
  }
  return out;
}

function fail(violations: Violation[], what: string): void {
  if (violations.length > 0) throw new ValidationError(`invalid ${what}`, violations);
}

/** The translation must meet the chain contract before it may be published. */
function checkedEvent<D>(event: Event<D>): Event<D> {
  fail(schemas().validateEvent(event), 'chain event (translation)');
  return event;
}

/**
 * COA koppeling → nl.inburgering.inburgeraar.gekoppeld. The event id is derived from the TVS
 * koppelingId, so the JSON push and the nightly CSV row of one koppeling are the same event.
 */
export function koppelingToEvent(
  msg: CoaKoppeling,
  ctx: TranslateContext,
  kanaal: 'coa-json' | 'coa-tvs-csv' = 'coa-json',
): Event<InburgeraarGekoppeld> {
  assertContract(KOPPELING_SCHEMA, msg, 'koppeling contract');
  const violations = personRules(msg.persoon, msg.gemeenteCode, ctx);
  if (msg.vergunningDatum > msg.koppelDatum) {
    violations.push({
      field: 'vergunningDatum',
      rule: 'vergunningDatum <= koppelDatum',
      message: 'the permit must start on or before the koppeling',
    });
  }
  if (msg.persoon.geboortedatum > msg.koppelDatum) {
    violations.push({
      field: 'persoon.geboortedatum',
      rule: 'geboortedatum <= koppelDatum',
      message: 'must not lie after the koppeling',
    });
  }
  fail(violations, 'koppeling');

  const p = msg.persoon;
  const vnummer = normaliseVnummer(p.vNummer, 'persoon.vNummer');
  const gemeente = `gm${msg.gemeenteCode}`;
  const data: InburgeraarGekoppeld = {
    inburgeraarId: ctx.pseudonymizer.inburgeraarId({ bsn: p.bsn, vnummer }),
    gemeenteCode: gemeente,
    koppelingId: msg.koppelingId,
    koppeldatum: msg.koppelDatum,
    vergunningIngangsdatum: msg.vergunningDatum,
    persoon: {
      ...(p.bsn ? { bsn: p.bsn } : {}),
      vnummer,
      voornamen: p.voornamen,
      geslachtsnaam: p.achternaam,
      geboortedatum: p.geboortedatum,
      geslacht: GESLACHT[p.geslacht],
      ...(p.nationaliteit ? { nationaliteit: p.nationaliteit } : {}),
      ...(p.geboorteland ? { geboorteland: p.geboorteland } : {}),
    },
    azc: { code: msg.azc.locatieCode, naam: msg.azc.naam },
    huishouden: {
      huishoudenId: msg.huishouden.huishoudenId,
      rol: ROL[msg.huishouden.rol],
      omvang: msg.huishouden.aantalLeden,
      nareiziger: msg.huishouden.nareiziger ?? false,
    },
    bron: { kanaal, berichtId: msg.berichtId },
  };
  return checkedEvent(
    buildEvent({
      id: nameBasedUuid(`coa:koppeling:${msg.koppelingId}`),
      type: GEKOPPELD,
      source: ctx.source,
      gemeente,
      data,
      time: ctx.now?.(),
    }),
  );
}

/**
 * COA warme overdracht → nl.inburgering.inburgeraar.overgedragen. The person's identifiers
 * become the pseudonym only; medical particulars travel only with the person's consent.
 */
export function overdrachtToEvent(
  msg: CoaWarmeOverdracht,
  ctx: TranslateContext,
): Event<InburgeraarOvergedragen> {
  assertContract(OVERDRACHT_SCHEMA, msg, 'warme overdracht contract');
  fail(personRules(msg.persoon, msg.gemeenteCode, ctx), 'warme overdracht');

  const vnummer = normaliseVnummer(msg.persoon.vNummer, 'persoon.vNummer');
  const gemeente = `gm${msg.gemeenteCode}`;
  const data: InburgeraarOvergedragen = {
    inburgeraarId: ctx.pseudonymizer.inburgeraarId({ bsn: msg.persoon.bsn, vnummer }),
    gemeenteCode: gemeente,
    overdrachtId: msg.overdrachtId,
    koppelingId: msg.koppelingId,
    overdrachtdatum: msg.datum,
    profiel: {
      opleidingen: msg.opleiding.map((o) => ({
        niveau: lower(o.niveau),
        jaren: o.aantalJaren,
        ...(o.land ? { land: o.land } : {}),
        ...(o.diploma !== undefined ? { diploma: o.diploma } : {}),
      })),
      werkervaring: msg.werkervaring.map((w) => ({ beroep: w.beroep, jaren: w.aantalJaren })),
      talen: msg.talen.map((t) => ({
        taal: t.taal,
        niveau: /^[AB][0-9]$/.test(t.niveau)
          ? (t.niveau as 'A0' | 'A1' | 'A2' | 'B1' | 'B2')
          : (lower(t.niveau) as 'moedertaal' | 'goed' | 'redelijk' | 'beginner'),
      })),
      ...(msg.voorinburgering ? { voorinburgering: msg.voorinburgering } : {}),
      ...(msg.motivatie ? { motivatie: msg.motivatie } : {}),
      ...(msg.verwachtingen ? { verwachtingen: msg.verwachtingen } : {}),
      ...(msg.herkomstland ? { herkomstland: msg.herkomstland } : {}),
    },
    ...(msg.medisch?.toestemmingDelen
      ? { gezondheid: { bijzonderheden: msg.medisch.bijzonderheden, toestemming: true as const } }
      : {}),
    casemanager: msg.casemanager,
  };
  return checkedEvent(
    buildEvent({
      id: nameBasedUuid(`coa:overdracht:${msg.overdrachtId}`),
      type: OVERGEDRAGEN,
      source: ctx.source,
      gemeente,
      data,
      time: ctx.now?.(),
    }),
  );
}
