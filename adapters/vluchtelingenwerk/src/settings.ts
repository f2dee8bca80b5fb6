import { ConfigError, type HubConfig } from '@ketenhub/kit';

/** Who confirms a signing of the participatieverklaring before it goes to DUO. */
export type PvtBevestiging = 'direct' | 'kvs';

export interface VluchtelingenwerkSettings {
  pvtBevestiging?: {
    /** For every gemeente not named below; default `kvs`. */
    standaard?: PvtBevestiging;
    /** Per gemeente (`gm0796: kvs`). */
    gemeenten?: Record<string, PvtBevestiging>;
  };
}

/**
 * `partners.vluchtelingenwerk.settings`, checked by the runner before anything connects
 * (docs/adr/0020-vluchtelingenwerk-pvt-bevestiging.md): per gemeente whether VluchtelingenWerk's
 * signing of the participatieverklaring goes on to DUO at once (`direct`, as
 * nl.inburgering.pvt.ondertekend) or reaches only the gemeente's KVS, which confirms it by
 * sending its own pvt.ondertekend (`kvs`, as nl.inburgering.pvt.ondertekening-gemeld).
 */
export const VLUCHTELINGENWERK_SETTINGS_SCHEMA = {
  type: 'object',
  properties: {
    pvtBevestiging: {
      type: 'object',
      properties: {
        standaard: { enum: ['direct', 'kvs'] },
        gemeenten: {
          type: 'object',
          propertyNames: { pattern: '^gm[0-9]{4}$' },
          additionalProperties: { enum: ['direct', 'kvs'] },
        },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

/** The rule when the settings say nothing: the gemeente confirms (it reports to DUO by law). */
export const DEFAULT_PVT_BEVESTIGING: PvtBevestiging = 'kvs';

/** The rule of one gemeente. */
export function pvtBevestigingFor(
  settings: VluchtelingenwerkSettings,
  gemeente: string,
): PvtBevestiging {
  const rule = settings.pvtBevestiging;
  return rule?.gemeenten?.[gemeente] ?? rule?.standaard ?? DEFAULT_PVT_BEVESTIGING;
}

/** A gemeente in the rule that the hub does not serve is a configuration error, not ignored. */
export function checkPvtGemeenten(config: HubConfig, settings: VluchtelingenwerkSettings): void {
  const served = new Set(config.gemeenten.map((g) => g.code));
  for (const gemeente of Object.keys(settings.pvtBevestiging?.gemeenten ?? {})) {
    if (!served.has(gemeente)) {
      const field = `partners.vluchtelingenwerk.settings.pvtBevestiging.gemeenten.${gemeente}`;
      throw new ConfigError(`${field}: not a gemeente the hub serves`, {
        field,
        rule: 'a served gemeente',
      });
    }
  }
}
