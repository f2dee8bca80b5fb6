/**
 * Valid messages for every edge of the hub, and the personal data in them: the hostile inputs
 * are these messages broken one way at a time, and no answer may contain the personal data.
 */
import { randomUUID } from 'node:crypto';
import { buildEvent, nameBasedUuid } from '@ketenhub/kit';
import { testBsn } from '@ketenhub/kit/privacy';
import { oinOf, type Gemeente } from './chain.ts';

/** A BSN with 9 digits that fails the elfproef. */
export const BAD_BSN = '123456789';
export const VNUMMER = '4412093817';
export const VOORNAMEN = 'Amanuel Tesfay';
export const ACHTERNAAM = 'Gebremedhin';
export const IBAN = 'NL91ABNA0417164300';
/** An IBAN whose check digits are wrong (one digit off). */
export const BAD_IBAN = 'NL91ABNA0417164301';
export const DEELNEMER = { voornamen: 'Lina', geslachtsnaam: 'Haddad-Alkhatib' };

/** Personal data any request of the suite may carry; none of it may come back in an answer. */
export function personalData(...bsns: string[]): string[] {
  return [
    BAD_BSN,
    VNUMMER,
    VOORNAMEN,
    ACHTERNAAM,
    IBAN,
    BAD_IBAN,
    DEELNEMER.geslachtsnaam,
    ...bsns,
  ];
}

export function koppeling(opts: {
  koppelingId: string;
  bsn?: string;
  gemeente?: string;
  vNummer?: string;
  achternaam?: string;
}) {
  return {
    berichtId: randomUUID(),
    koppelingId: opts.koppelingId,
    koppelDatum: '2026-09-14',
    gemeenteCode: (opts.gemeente ?? 'gm0797').slice(2),
    vergunningDatum: '2026-09-02',
    persoon: {
      vNummer: opts.vNummer ?? VNUMMER,
      ...(opts.bsn ? { bsn: opts.bsn } : {}),
      voornamen: VOORNAMEN,
      achternaam: opts.achternaam ?? ACHTERNAAM,
      geboortedatum: '1991-03-17',
      geslacht: 'M',
      nationaliteit: 'Eritrese',
      geboorteland: 'Eritrea',
    },
    azc: { locatieCode: 'BUD', naam: 'AZC Budel-Cranendonck' },
    huishouden: {
      huishoudenId: 'HH-2026-0042',
      rol: 'HOOFDPERSOON',
      aantalLeden: 3,
      nareiziger: false,
    },
  };
}

export function overdracht(opts: { koppelingId: string; bsn?: string; vNummer?: string }) {
  return {
    berichtId: randomUUID(),
    overdrachtId: `OVD-${opts.koppelingId}`,
    koppelingId: opts.koppelingId,
    gemeenteCode: '0797',
    datum: '2026-09-28',
    persoon: { vNummer: opts.vNummer ?? VNUMMER, ...(opts.bsn ? { bsn: opts.bsn } : {}) },
    opleiding: [{ niveau: 'GEEN', aantalJaren: 0 }],
    werkervaring: [],
    talen: [{ taal: 'Dari', niveau: 'MOEDERTAAL' }],
    motivatie: 'Wil snel aan het werk.',
    medisch: { bijzonderheden: 'Rugklachten.', toestemmingDelen: false },
    casemanager: { naam: 'Youssef El Amrani' },
  };
}

/** A chain event as a KVS sends it to the hub's inbound API. */
export function kvsEvent<D extends object>(
  gemeente: Gemeente,
  type: string,
  data: D,
  name: string,
): ReturnType<typeof buildEvent<D & { gemeenteCode: string }>> {
  return buildEvent({
    id: nameBasedUuid(`security:${gemeente}:${type}:${name}`),
    type: `nl.inburgering.${type}`,
    source: `urn:nld:oin:${oinOf(gemeente)}:systeem:suite4sd`,
    gemeente,
    data: { ...data, gemeenteCode: gemeente },
  });
}

export function gevestigd(
  gemeente: Gemeente,
  inburgeraarId: string,
  opts: { bsn?: string; vestigingsdatum?: string; name?: string } = {},
) {
  return kvsEvent(
    gemeente,
    'inburgeraar.gevestigd',
    {
      inburgeraarId,
      vestigingsdatum: opts.vestigingsdatum ?? '2026-09-01',
      ...(opts.bsn ? { bsn: opts.bsn } : {}),
    },
    opts.name ?? `gevestigd:${inburgeraarId}:${opts.vestigingsdatum ?? ''}`,
  );
}

export function pip(
  gemeente: Gemeente,
  inburgeraarId: string,
  name: string,
  extra: Record<string, unknown> = {},
) {
  return kvsEvent(
    gemeente,
    'pip.vastgesteld',
    {
      inburgeraarId,
      pipId: `PIP-${name}`,
      dagtekening: '2026-10-15',
      leerroute: 'b1-route',
      niveau: 'B1',
      ...extra,
    },
    `pip:${name}`,
  );
}

export function aanvraag(
  gemeente: Gemeente,
  inburgeraarId: string,
  trajectId: string,
  opts: { iban?: string; uitkeringBedragCent?: number; name?: string } = {},
) {
  return kvsEvent(
    gemeente,
    'ontzorgen.aangevraagd',
    {
      inburgeraarId,
      trajectId,
      client: {
        voornamen: VOORNAMEN,
        geslachtsnaam: ACHTERNAAM,
        adres: { straat: 'Markt', huisnummer: 12, postcode: '5211JV', woonplaats: 'Heusden' },
        iban: opts.iban ?? IBAN,
      },
      uitkeringBedragCent: opts.uitkeringBedragCent ?? 140_000,
      vasteLasten: [
        {
          soort: 'huur',
          crediteur: 'Zayaz',
          iban: 'NL44RABO0123456789',
          bedragCent: 65_000,
          kenmerk: 'HUUR 2026-0042',
        },
      ],
      startdatum: '2026-12-01',
      einddatum: '2027-06-01',
    },
    opts.name ?? `aanvraag:${trajectId}:${inburgeraarId}`,
  );
}

export function notificatie(opts: { bsn?: string; vNummer?: unknown } = {}) {
  return {
    registratieDatumTijd: '2026-11-20T10:00:00Z',
    gebeurtenisId: 'SS101',
    ...(opts.bsn ? { bsn: opts.bsn } : {}),
    ...(opts.vNummer !== undefined ? { vNummer: opts.vNummer } : {}),
  };
}

export function webhook(opts: { referentie: string; gemeentecode?: string } = { referentie: 'X' }) {
  return {
    id: randomUUID(),
    type: 'traject.gestart',
    referentie: opts.referentie,
    gemeentecode: opts.gemeentecode ?? '0797',
    dossiernummer: 'KB-000001',
    tijdstip: '2026-12-01T09:00:00Z',
    gegevens: { start: '2026-12-01', eind: '2027-06-01' },
  };
}

export function uren(trajectId: string) {
  return { trajectId, peildatum: '2026-11-20', urenTotaal: 48 };
}

export const testBsns = { s: testBsn(711), p: testBsn(712), q: testBsn(713), r: testBsn(714) };
