/**
 * DUO's notification codes (gebeurtenisId) and what the hub does with each: which details it
 * pulls from DUO's GET APIs and which chain events it publishes (adapters/duo/README.md,
 * "Notificering").
 * A code not in this table is kept as a dead letter and raised as an alert, never dropped.
 */
export type Pull =
  | 'plicht'
  | 'doelgroep'
  | 'lbt-resultaten'
  | 'lbt-examennummer'
  | 'termijn'
  | 'examens'
  | 'ontheffingen'
  | 'vrijstellingen';

export const ONTHEFFING_VERLEEND = 'nl.inburgering.ontheffing.verleend';
export const VRIJSTELLING_VERLEEND = 'nl.inburgering.vrijstelling.verleend';
export const DUO_SIGNAAL = 'nl.inburgering.duo.signaal';

/** A chain event published beside a code's own, from one more GET. */
export type Aanvulling = typeof ONTHEFFING_VERLEEND | typeof VRIJSTELLING_VERLEEND;

/** What each additional event pulls. */
export const AANVULLING_PULLS: Readonly<Record<Aanvulling, Pull>> = {
  [ONTHEFFING_VERLEEND]: 'ontheffingen',
  [VRIJSTELLING_VERLEEND]: 'vrijstellingen',
};

/** DUO's attention signals in the chain's vocabulary (duo.signaal's `signaal`). */
export type Signaal = 'geen-leerroute-na-10-weken' | 'nog-geen-aanbod';

export interface Gebeurtenis {
  omschrijving: string;
  /** The code's own chain event. */
  type: string;
  pulls: Pull[];
  /** Chain events published for the same notification after the code's own, in this order. */
  ook?: readonly Aanvulling[];
  /** An attention signal: nothing to pull, only this. */
  signaal?: Signaal;
}

const plicht = (omschrijving: string): Gebeurtenis => ({
  omschrijving,
  type: 'nl.inburgering.inburgeringsplicht.gewijzigd',
  pulls: ['plicht', 'doelgroep'],
});

export const GEBEURTENISSEN: Readonly<Record<string, Gebeurtenis>> = {
  SS101: plicht('inburgeringsplichtig geworden'),
  SS128: plicht('inburgeringsplichtig, bereikt binnen 6 maanden de AOW-leeftijd'),
  SS139: plicht(
    'inburgeringsplichtig; de termijn van 10 weken voor het vaststellen van de leerroute is gestart',
  ),
  SS129: plicht('tijdelijke vrijstelling ingetrokken, nog geen leerroute bekend'),
  SS120: plicht('gevestigd in de gemeente zonder PIP'),
  SS121: plicht('gevestigd in de gemeente met een PIP van een vorige gemeente'),
  SS124: plicht('doelgroep gewijzigd van asielmigrant naar gezins- of overige migrant'),
  SS125: plicht('doelgroep gewijzigd van gezins- of overige migrant naar asielmigrant'),
  SS109: { ...plicht('tijdelijke vrijstelling verleend'), ook: [VRIJSTELLING_VERLEEND] },
  SS110: plicht('inburgeringsplicht vervallen'),
  SS111: plicht('persoon overleden'),
  SS106: plicht('inburgeringsplicht voldaan: diploma'),
  SS107: {
    ...plicht('inburgeringsplicht voldaan: volledige vrijstelling'),
    ook: [VRIJSTELLING_VERLEEND],
  },
  SS108: {
    ...plicht('inburgeringsplicht voldaan: volledige ontheffing'),
    ook: [ONTHEFFING_VERLEEND],
  },
  SS137: {
    omschrijving: 'aangemeld voor de leerbaarheidstoets',
    type: 'nl.inburgering.leerbaarheidstoets.aangemeld',
    pulls: ['lbt-examennummer'],
  },
  SS131: {
    omschrijving: 'leerbaarheidstoets afgelegd, resultaat bekend',
    type: 'nl.inburgering.leerbaarheidstoets.afgerond',
    pulls: ['lbt-resultaten'],
  },
  SS102: {
    omschrijving: 'inburgeringstermijn gestart',
    type: 'nl.inburgering.inburgeringstermijn.gestart',
    pulls: ['termijn'],
  },
  SS199: {
    omschrijving: 'examenresultaat bekend',
    type: 'nl.inburgering.examen.resultaat',
    pulls: ['examens'],
  },
  // DUO's attention signals: DUO sends the code only, there is nothing to pull.
  SS126: {
    omschrijving: 'aandachtssignaal: 10 weken na de start nog geen leerroute bekend',
    type: DUO_SIGNAAL,
    pulls: [],
    signaal: 'geen-leerroute-na-10-weken',
  },
  SS127: {
    omschrijving: 'aandachtssignaal: nog geen inburgeringsaanbod bekend',
    type: DUO_SIGNAAL,
    pulls: [],
    signaal: 'nog-geen-aanbod',
  },
};
