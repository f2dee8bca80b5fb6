import { describe, expect, it } from 'vitest';
import { inzageKeys, inzagePseudonyms } from './inzage.ts';
import { createPseudonymizer } from './pseudonym.ts';

const current = 'c'.repeat(32);
const previous = 'p'.repeat(32);

describe('inzage pseudonyms', () => {
  it('tries the previous key only during a rotation', () => {
    expect(inzageKeys(current, {})).toEqual([current]);
    expect(inzageKeys(current, { KETENHUB_PSEUDONYM_KEY_PREVIOUS: previous })).toEqual([
      current,
      previous,
    ]);
    expect(inzageKeys(current, { KETENHUB_PSEUDONYM_KEY_PREVIOUS: current })).toEqual([current]);
    expect(inzageKeys(current, { KETENHUB_PSEUDONYM_KEY_PREVIOUS: '' })).toEqual([current]);
  });

  it('gives the pseudonyms the services give, of the BSN and of the V-nummer, per key', () => {
    const person = { bsn: '999990019', vnummer: '4412093817' };
    const ids = inzagePseudonyms(person, [current, previous]);
    const [now, before] = [createPseudonymizer(current), createPseudonymizer(previous)];
    // A service names a person with a BSN by the BSN, whatever the V-nummer.
    expect(ids).toEqual([
      now.inburgeraarId({ bsn: person.bsn, vnummer: 'anything' }),
      now.inburgeraarId({ vnummer: person.vnummer }),
      before.inburgeraarId({ bsn: person.bsn, vnummer: '' }),
      before.inburgeraarId({ vnummer: person.vnummer }),
    ]);
    expect(inzagePseudonyms({ bsn: person.bsn }, [current])).toHaveLength(1);
    expect(inzagePseudonyms({}, [current])).toEqual([]);
    expect(ids.join()).not.toContain('999990019');
  });
});
