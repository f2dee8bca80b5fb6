import { describe, expect, it } from 'vitest';
import { corporatieFor } from './aanvraag.ts';

const CORPORATIES = [
  { id: 'woonpoort', gemeenten: ['gm0797', 'gm0865'] },
  { id: 'stadswonen', gemeenten: ['gm0796', 'gm0797'] },
];
const aanvraag = (gemeente: string, corporatie?: string) => ({
  gemeente,
  data: corporatie ? { corporatie } : {},
});

describe('which corporatie an aanvraag goes to', () => {
  it('the one it names, when that one is contracted for the gemeente', () => {
    expect(corporatieFor(CORPORATIES, aanvraag('gm0797', 'stadswonen'))).toEqual({
      corporatie: 'stadswonen',
    });
  });

  it('without a name, the first one contracted for the gemeente', () => {
    expect(corporatieFor(CORPORATIES, aanvraag('gm0797'))).toEqual({ corporatie: 'woonpoort' });
    expect(corporatieFor(CORPORATIES, aanvraag('gm0796'))).toEqual({ corporatie: 'stadswonen' });
  });

  it('refuses a named corporatie the gemeente did not contract, or an unknown one', () => {
    for (const named of ['stadswonen', 'elders']) {
      expect(corporatieFor(CORPORATIES, aanvraag('gm0865', named))).toEqual({
        refused: expect.objectContaining({
          field: 'data.corporatie',
          rule: 'contracted for the gemeente',
        }),
      });
    }
  });

  it('refuses an aanvraag of a gemeente no corporatie is contracted by', () => {
    expect(corporatieFor(CORPORATIES, aanvraag('gm0363'))).toEqual({
      refused: expect.objectContaining({
        field: 'gemeente',
        rule: 'a woningcorporatie contracted for the gemeente',
      }),
    });
  });
});
