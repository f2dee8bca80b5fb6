import type { ZrouteAfgerond } from '@ketenhub/contracts/generated';
import type { DuoResultaatZroute } from '@ketenhub/contracts/generated/duo';
import { createMeldingHandler, today, type DuoDeps } from './handlers.ts';
import { checkZroute } from './rules.ts';
import { leerrouteFromDuo } from './translate.ts';

/** The completion of the Z-route as a whole resource: without a date, DUO's is withdrawn. */
export function zrouteToDuo(z: Partial<ZrouteAfgerond>): DuoResultaatZroute {
  return z.datumAfronding ? { datumAfrondingZroute: z.datumAfronding } : {};
}

/**
 * zroute.afgerond → `PUT /personen/{bsn}/zroute` (MAP-PVT-Zroute): DUO's current PIP, termijn,
 * MAP and PVT read first (the PUT replaces the resource, so it is reconciled with what DUO
 * holds), the rules of `checkZroute` applied, then the melding; `zroute.geregistreerd` or
 * `zroute.afgewezen` to the KVS.
 */
export function createZrouteHandler(deps: DuoDeps) {
  return createMeldingHandler(
    deps,
    (event, bsn, _bron, { duo }) => {
      const z = event.data as unknown as ZrouteAfgerond;
      return {
        melding: 'zroute',
        api: 'MAP-PVT-Zroute',
        method: 'PUT',
        path: `/personen/${bsn}/zroute`,
        body: zrouteToDuo(z),
        async check() {
          const [huidig, termijn, map, pvt] = await Promise.all([
            duo.pip(),
            duo.termijn(),
            duo.map(),
            duo.pvt(),
          ]);
          const leerroute = leerrouteFromDuo(huidig?.pip.leerroute);
          return checkZroute(z.datumAfronding ? { datum: z.datumAfronding } : {}, {
            vandaag: today(deps),
            huidigePipVanGemeente: huidig?.gemeentecode === event.gemeente.slice(2),
            ...(leerroute ? { leerroute } : {}),
            ...(termijn
              ? { termijn: { startdatum: termijn.startdatum, einddatum: termijn.einddatum } }
              : {}),
            ...(map?.datumEindgesprekMap ? { mapDatum: map.datumEindgesprekMap } : {}),
            ...(pvt?.datumOndertekeningPvt ? { pvtDatum: pvt.datumOndertekeningPvt } : {}),
          });
        },
      };
    },
    'zroute',
  );
}
