import type {
  HuurcontractGetekend,
  OntzorgenAangevraagd,
  OntzorgenBeeindigingAangevraagd,
  PipVastgesteld,
} from '@ketenhub/contracts/generated';
import type {
  KredietbankBeeindiging,
  KredietbankLooptijd,
  KredietbankOntzorgtraject,
  KredietbankWebhook,
  KredietbankWoning,
} from '@ketenhub/contracts/generated/kredietbank';
import type { Violation } from '@ketenhub/kit';
import { moneyViolations } from '@ketenhub/kit/privacy';

/**
 * Pure translations between the chain's ontzorgen events and the Kredietbank's own REST format
 * (contracts/schemas/kredietbank/). No I/O: golden-tested in translate.test.ts.
 */

export const KREDIETBANK_TRAJECT_SCHEMA =
  'https://contracts.ketenhub.nl/kredietbank/ontzorgtraject.schema.json';
export const KREDIETBANK_WEBHOOK_SCHEMA =
  'https://contracts.ketenhub.nl/kredietbank/webhook.schema.json';
export const KREDIETBANK_BEEINDIGING_SCHEMA =
  'https://contracts.ketenhub.nl/kredietbank/beeindiging.schema.json';
export const KREDIETBANK_ANTWOORD_SCHEMA =
  'https://contracts.ketenhub.nl/kredietbank/antwoord.schema.json';
export const KREDIETBANK_LOOPTIJD_SCHEMA =
  'https://contracts.ketenhub.nl/kredietbank/looptijd.schema.json';
export const KREDIETBANK_WONING_SCHEMA =
  'https://contracts.ketenhub.nl/kredietbank/woning.schema.json';

/** The Kredietbank's own request bodies (their field names are its own). */
export const KREDIETBANK_REQUEST_SCHEMAS = [
  KREDIETBANK_TRAJECT_SCHEMA,
  KREDIETBANK_BEEINDIGING_SCHEMA,
  KREDIETBANK_LOOPTIJD_SCHEMA,
  KREDIETBANK_WONING_SCHEMA,
];

/**
 * Names of what budgetbeheer must never see, whatever a schema calls them (the privacy tests
 * plant sentinels there): besides what the register keeps from the Kredietbank by category.
 */
export const KREDIETBANK_NEVER_FIELDS = [
  'leerroute',
  'leerbaarheid',
  'gezondheid',
  'opleidingen',
  'profiel',
  'resultaten',
  'examennummer',
  'niveau',
];

type Soort = OntzorgenAangevraagd['vasteLasten'][number]['soort'];
type KbSoort = KredietbankOntzorgtraject['vasteLasten'][number]['soort'];

const SOORT_NAAR_KB: Record<Soort, KbSoort> = {
  huur: 'HUUR',
  energie: 'ENERGIE',
  water: 'WATER',
  zorgverzekering: 'ZORGVERZEKERING',
};
const SOORT_VAN_KB = Object.fromEntries(
  Object.entries(SOORT_NAAR_KB).map(([k, v]) => [v, k]),
) as Record<KbSoort, Soort>;

const REDEN_MISLUKT = {
  ONVOLDOENDE_SALDO: 'onvoldoende-saldo',
  IBAN_GEWEIGERD: 'iban-geweigerd',
  CREDITEUR_WEIGERT: 'crediteur-weigert',
  OVERIG: 'overig',
} as const;
const ADVIES = {
  CONTINUEREN: 'continueren',
  AFBOUWEN: 'afbouwen',
  VERLENGING_ADVIES: 'verlengen-via-pip',
} as const;
const REDEN_EINDE = {
  EINDDATUM_BEREIKT: 'termijn-verstreken',
  OP_VERZOEK: 'op-verzoek-gemeente',
  VERHUISD: 'verhuisd',
  OVERIG: 'overig',
} as const;

const REDEN_BEEINDIGING: Record<
  OntzorgenBeeindigingAangevraagd['reden'],
  KredietbankBeeindiging['reden']
> = {
  'op-verzoek-gemeente': 'OP_VERZOEK_GEMEENTE',
  verhuisd: 'VERHUISD',
  overig: 'OVERIG',
};

/** The chain type each webhook type becomes. */
export const WEBHOOK_TYPES: Record<KredietbankWebhook['type'], string> = {
  'traject.gestart': 'nl.inburgering.ontzorgen.gestart',
  'betaling.uitgevoerd': 'nl.inburgering.ontzorgen.betaling-uitgevoerd',
  'betaling.mislukt': 'nl.inburgering.ontzorgen.betaling-mislukt',
  'traject.geevalueerd': 'nl.inburgering.ontzorgen.geevalueerd',
  'traject.beeindigd': 'nl.inburgering.ontzorgen.beeindigd',
};

/** `gm0797` → `0797`, the Kredietbank's (and DUO's) gemeentecode. */
export const cbsCode = (gemeente: string) => gemeente.slice(2);

/**
 * What the schemas cannot check about an aanvraag: IBAN check digits, amounts, and that the
 * traject ends after it starts. The fixed charges may exceed the benefit: the Kredietbank
 * then reports failed payments, which is exactly what the gemeente needs to see.
 */
export function aanvraagViolations(data: OntzorgenAangevraagd, base = 'data'): Violation[] {
  const out = moneyViolations(data, base);
  if (data.einddatum <= data.startdatum) {
    out.push({
      field: `${base}.einddatum`,
      rule: 'after startdatum',
      message: 'the traject must end after it starts',
    });
  }
  return out;
}

/** ontzorgen.aangevraagd (as the kredietbank policy projects it) + BSN → register/change body. */
export function aanvraagToKredietbank(
  data: OntzorgenAangevraagd,
  bsn: string,
): KredietbankOntzorgtraject {
  const adres = data.client.adres;
  return {
    referentie: data.trajectId,
    gemeentecode: cbsCode(data.gemeenteCode),
    bsn,
    client: {
      voornamen: data.client.voornamen,
      achternaam: data.client.geslachtsnaam,
      adres: {
        straat: adres.straat,
        huisnummer: adres.huisnummer,
        ...(adres.huisnummertoevoeging ? { toevoeging: adres.huisnummertoevoeging } : {}),
        postcode: adres.postcode,
        plaats: adres.woonplaats,
      },
      iban: data.client.iban,
    },
    uitkering: { bedrag: data.uitkeringBedragCent },
    // Field by field, never spread: whatever else an item might carry stays in the hub.
    vasteLasten: data.vasteLasten.map((l) => ({
      soort: SOORT_NAAR_KB[l.soort],
      crediteur: { naam: l.crediteur, iban: l.iban },
      bedrag: l.bedragCent,
      betalingskenmerk: l.kenmerk,
    })) as KredietbankOntzorgtraject['vasteLasten'],
    periode: { start: data.startdatum, eind: data.einddatum },
  };
}

/** A call about one traject: the path parts that name it at the Kredietbank and the body. */
export interface TrajectCall<B> {
  gemeentecode: string;
  referentie: string;
  body: B;
}

/** ontzorgen.beeindiging-aangevraagd → the Kredietbank's beeindiging of that traject. */
export function beeindigingToKredietbank(
  data: OntzorgenBeeindigingAangevraagd,
): TrajectCall<KredietbankBeeindiging> {
  return {
    gemeentecode: cbsCode(data.gemeenteCode),
    referentie: data.trajectId,
    body: { datum: data.datum, reden: REDEN_BEEINDIGING[data.reden] },
  };
}

/** What of a PIP the kredietbank policy lets through. */
export type PipOntzorgen = Pick<PipVastgesteld, 'gemeenteCode' | 'pipId' | 'dagtekening'> &
  Partial<Pick<PipVastgesteld, 'ontzorgen'>>;

/**
 * The ontzorgen part of a PIP → a new end date of the traject at the Kredietbank, resting on
 * that PIP (its id and dagtekening); undefined when the PIP says nothing about ontzorgen.
 */
export function pipToLooptijd(pip: PipOntzorgen): TrajectCall<KredietbankLooptijd> | undefined {
  if (!pip.ontzorgen) return undefined;
  return {
    gemeentecode: cbsCode(pip.gemeenteCode),
    referentie: pip.ontzorgen.trajectId,
    body: {
      eind: pip.ontzorgen.einddatum,
      grondslag: { pip: pip.pipId, dagtekening: pip.dagtekening },
    },
  };
}

/** What of a signed lease the kredietbank policy lets through. */
export type HuurcontractVoorKredietbank = Pick<
  HuurcontractGetekend,
  | 'gemeenteCode'
  | 'aanbodId'
  | 'adres'
  | 'huurprijsCent'
  | 'betaling'
  | 'ingangsdatum'
  | 'getekendOp'
>;

/**
 * A signed lease of a client with a running traject → the traject's new address and rent
 * (docs/adr/0021-huurcontract-naar-kredietbank.md): the rent is paid to the corporatie's account
 * with its reference from the month the lease starts, resting on the signed offer and the day
 * of signing. Field by field, never spread.
 */
export function huurcontractToWoning(
  lease: HuurcontractVoorKredietbank,
  trajectId: string,
): TrajectCall<KredietbankWoning> {
  const adres = lease.adres;
  return {
    gemeentecode: cbsCode(lease.gemeenteCode),
    referentie: trajectId,
    body: {
      adres: {
        straat: adres.straat,
        huisnummer: adres.huisnummer,
        ...(adres.huisnummertoevoeging ? { toevoeging: adres.huisnummertoevoeging } : {}),
        postcode: adres.postcode,
        plaats: adres.woonplaats,
      },
      huur: {
        crediteur: { naam: lease.betaling.tenaamstelling, iban: lease.betaling.iban },
        bedrag: lease.huurprijsCent,
        betalingskenmerk: lease.betaling.kenmerk,
        vanaf: lease.ingangsdatum,
      },
      grondslag: { huurcontract: lease.aanbodId, getekendOp: lease.getekendOp },
    },
  };
}

interface Betaling {
  betalingId: string;
  soort: KbSoort;
  crediteurNaam: string;
  bedrag: number;
  periode: string;
  datum: string;
  reden?: keyof typeof REDEN_MISLUKT;
}

/**
 * A webhook of the Kredietbank → the chain event's type and data. `inburgeraarId` comes from
 * the hub's own traject store (the Kredietbank knows the person by BSN and referentie only).
 */
export function webhookToChain(
  webhook: KredietbankWebhook,
  inburgeraarId: string,
): { type: string; gemeente: string; data: Record<string, unknown> } {
  const gemeente = `gm${webhook.gemeentecode}`;
  const base = {
    inburgeraarId,
    gemeenteCode: gemeente,
    trajectId: webhook.referentie,
    dossiernummer: webhook.dossiernummer,
  };
  const g = webhook.gegevens as Record<string, unknown>;
  const type = WEBHOOK_TYPES[webhook.type];
  switch (webhook.type) {
    case 'traject.gestart':
      return { type, gemeente, data: { ...base, startdatum: g.start, einddatum: g.eind } };
    case 'betaling.uitgevoerd':
    case 'betaling.mislukt': {
      const b = g as unknown as Betaling;
      const betaling = {
        ...base,
        betalingId: b.betalingId,
        soort: SOORT_VAN_KB[b.soort],
        crediteur: b.crediteurNaam,
        bedragCent: b.bedrag,
        periode: b.periode,
      };
      return webhook.type === 'betaling.uitgevoerd'
        ? { type, gemeente, data: { ...betaling, uitgevoerdOp: b.datum } }
        : {
            type,
            gemeente,
            data: { ...betaling, misluktOp: b.datum, reden: REDEN_MISLUKT[b.reden ?? 'OVERIG'] },
          };
    }
    case 'traject.geevalueerd':
      return {
        type,
        gemeente,
        data: {
          ...base,
          evaluatiedatum: g.datum,
          advies: ADVIES[g.advies as keyof typeof ADVIES],
          betalingen: { uitgevoerd: g.aantalBetalingen, mislukt: g.aantalMislukt },
        },
      };
    case 'traject.beeindigd':
      return {
        type,
        gemeente,
        data: {
          ...base,
          einddatum: g.datum,
          reden: REDEN_EINDE[g.reden as keyof typeof REDEN_EINDE],
          betalingen: { uitgevoerd: g.aantalBetalingen, mislukt: g.aantalMislukt },
        },
      };
  }
}
