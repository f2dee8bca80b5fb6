/**
 * COA's nightly TVS export of koppelingen as the hub receives it for bulk and catch-up:
 * semicolon separated, a header row, Dutch dates (dd-mm-jjjj), UTF-8 with a BOM and CRLF line
 * ends by default because TVS is exported on Windows.
 *
 * TVS writes values without quoting and has no escape for the separator, so a value cannot
 * contain a semicolon: it is replaced by a comma, as the export does. Line breaks become a
 * space and a double quote a single one for the same reason (an unquoted value may not start a
 * quoted field for a CSV reader).
 */

import type { CoaKoppeling, CoaTvsCsvRow } from '@ketenhub/contracts/generated/coa';
import { toDutchDate } from './dates.ts';

/** Column order of the export: the schema's required columns, then the optional ones. */
export const TVS_COLUMNS = [
  'koppeling_id',
  'v_nummer',
  'voornamen',
  'achternaam',
  'geboortedatum',
  'geslacht',
  'gemeente_code',
  'koppel_datum',
  'vergunning_datum',
  'azc_code',
  'azc_naam',
  'huishouden_id',
  'huishouden_rol',
  'huishouden_omvang',
  'bsn',
  'nationaliteit',
  'geboorteland',
  'nareiziger',
] as const satisfies readonly (keyof CoaTvsCsvRow)[];

export type TvsColumn = (typeof TVS_COLUMNS)[number];

export interface TvsCsvOptions {
  /** Start with a UTF-8 byte order mark; default true. */
  bom?: boolean;
  /** Line end; default '\r\n'. */
  eol?: '\r\n' | '\n';
}

/** One koppeling as a TVS row: every cell text, optional cells absent when unknown. */
export function toTvsRow(k: CoaKoppeling): CoaTvsCsvRow {
  const p = k.persoon;
  return {
    koppeling_id: k.koppelingId,
    v_nummer: p.vNummer,
    voornamen: p.voornamen,
    achternaam: p.achternaam,
    geboortedatum: toDutchDate(p.geboortedatum),
    geslacht: p.geslacht,
    gemeente_code: k.gemeenteCode,
    koppel_datum: toDutchDate(k.koppelDatum),
    vergunning_datum: toDutchDate(k.vergunningDatum),
    azc_code: k.azc.locatieCode,
    azc_naam: k.azc.naam,
    huishouden_id: k.huishouden.huishoudenId,
    huishouden_rol: k.huishouden.rol,
    huishouden_omvang: String(k.huishouden.aantalLeden),
    ...(p.bsn !== undefined ? { bsn: p.bsn } : {}),
    ...(p.nationaliteit !== undefined ? { nationaliteit: p.nationaliteit } : {}),
    ...(p.geboorteland !== undefined ? { geboorteland: p.geboorteland } : {}),
    nareiziger: k.huishouden.nareiziger ? 'J' : 'N',
  };
}

function cell(value: string | undefined): string {
  if (value === undefined) return '';
  return value
    .replace(/;/g, ',')
    .replace(/\r\n|[\r\n]/g, ' ')
    .replace(/"/g, "'");
}

export function toTvsCsv(koppelingen: CoaKoppeling[], opts: TvsCsvOptions = {}): string {
  const eol = opts.eol ?? '\r\n';
  const lines = [TVS_COLUMNS.join(';')];
  for (const k of koppelingen) {
    const row = toTvsRow(k);
    lines.push(TVS_COLUMNS.map((c) => cell(row[c])).join(';'));
  }
  // Windows exports end the last row with a line end too.
  return `${opts.bom === false ? '' : '\uFEFF'}${lines.join(eol)}${eol}`;
}
