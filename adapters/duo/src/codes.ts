/**
 * DUO's notification codes (gebeurtenisId) and what the hub does with each: which details it
 * pulls from DUO's GET APIs and which chain event it publishes (reference/duo-m2m/NOTES.md).
 * A code not in this table is kept as a dead letter and raised as an alert, never dropped.
 */
export type Pull =
  'plicht' | 'doelgroep' | 'lbt-resultaten' | 'lbt-examennummer' | 'termijn' | 'examens';

export interface Gebeurtenis {
  omschrijving: string;
  type: string;
  pulls: Pull[];
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
  SS109: plicht('tijdelijke vrijstelling verleend'),
  SS110: plicht('inburgeringsplicht vervallen'),
  SS111: plicht('persoon overleden'),
  SS106: plicht('inburgeringsplicht voldaan: diploma'),
  SS107: plicht('inburgeringsplicht voldaan: volledige vrijstelling'),
  SS108: plicht('inburgeringsplicht voldaan: volledige ontheffing'),
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
};
