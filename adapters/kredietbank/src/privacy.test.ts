import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { policies, schemas } from '@ketenhub/contracts';
import type { OntzorgenAangevraagd } from '@ketenhub/contracts/generated';
import { buildEvent, createProjector } from '@ketenhub/kit';
import { aanvraagToKredietbank } from './translate.ts';

/**
 * AVG data minimisation for the Kredietbank, as properties: over generated events of every type
 * in the catalogue, carrying leerbaarheid, education, health and leerroute fields (with
 * sentinel values) wherever they can be put, the Kredietbank never receives any of it. It gets
 * only ontzorgen.aangevraagd, and of that only what paying the fixed charges needs.
 */

/** Categories the Kredietbank must never receive. */
const FORBIDDEN_CATEGORIES = [
  'leerbaarheid',
  'opleiding-werk',
  'taal',
  'achtergrond',
  'gezondheid',
  'pip',
  'leerroute',
  'examen',
  'uren',
  'verzuim',
  'participatie',
  'inburgeringsplicht',
  'inburgeringstermijn',
  'contact-ketenpartner',
];

const GOLDEN = JSON.parse(
  readFileSync(new URL('../fixtures/golden/aanvraag.event.json', import.meta.url), 'utf8'),
) as OntzorgenAangevraagd;

/** Every object key in a JSON value, at any depth. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
  }
  return [];
}

/** Names the Kredietbank's own data uses (a `startdatum` is also a leerroute field elsewhere). */
const OWN_KEYS = new Set([
  ...keysOf(GOLDEN),
  ...keysOf(aanvraagToKredietbank(GOLDEN, '999990019')),
]);

/**
 * Every field name any policy files under a forbidden category, plus the obvious ones, less
 * the names the Kredietbank's own data uses.
 */
const FORBIDDEN_KEYS = [
  ...new Set([
    ...[...policies().policies.values()].flatMap((p) =>
      Object.values(p.ontvangt).flatMap((rule) =>
        Object.entries(rule.velden)
          .filter(([, category]) => FORBIDDEN_CATEGORIES.includes(category))
          .map(([field]) => field.split('.').at(-1)!),
      ),
    ),
    'leerroute',
    'leerbaarheid',
    'gezondheid',
    'opleidingen',
    'profiel',
    'resultaten',
    'examennummer',
    'niveau',
  ]),
].filter((k) => !OWN_KEYS.has(k));

const SENTINEL = 'SENTINEL-VERBODEN';
const TYPES = schemas().eventTypes();
const AANVRAAG = 'nl.inburgering.ontzorgen.aangevraagd';
const projector = createProjector('kredietbank');

const forbiddenValue = fc.oneof(
  fc.constant(SENTINEL),
  fc.constant({ waarde: SENTINEL }),
  fc.constant([SENTINEL]),
  fc.constant({ scores: [{ vaardigheid: SENTINEL }] }),
);
const forbiddenFields = fc.dictionary(fc.constantFrom(...FORBIDDEN_KEYS), forbiddenValue, {
  minKeys: 1,
});

/** Where in an aanvraag extra fields are slipped in. */
const PLACES = ['', 'client', 'client.adres', 'vasteLasten[0]', 'vasteLasten[1]'] as const;

function inject(data: OntzorgenAangevraagd, place: string, extra: Record<string, unknown>) {
  const copy = structuredClone(data) as unknown as Record<string, unknown>;
  let target: Record<string, unknown> = copy;
  for (const seg of place.split(/\.|\[(\d+)\]/).filter((s) => s)) {
    target = target[seg] as Record<string, unknown>;
  }
  Object.assign(target, extra);
  return copy;
}

function event(type: string, data: unknown, gemeente = 'gm0797') {
  return buildEvent({
    id: '2f0c1d9e-3a4b-4c5d-8e6f-7a8b9c0d1e2f',
    type,
    source: 'urn:nld:oin:00000001000797000000:systeem:suite4sd',
    gemeente,
    data,
  });
}

describe('the Kredietbank never receives leerbaarheid, education, health or leerroute data', () => {
  it('its policy lets out only ontzorgen.aangevraagd, under no forbidden category', () => {
    const policy = policies().policy('kredietbank');
    expect(Object.keys(policy.ontvangt)).toEqual([AANVRAAG]);
    const categories = Object.values(policy.ontvangt).flatMap((r) => Object.values(r.velden));
    expect(categories.filter((c) => FORBIDDEN_CATEGORIES.includes(c))).toEqual([]);
  });

  it('no event of any other catalogue type reaches it, whatever it carries (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TYPES.filter((t) => t !== AANVRAAG)),
        forbiddenFields,
        fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), {
          maxKeys: 5,
        }),
        (type, forbidden, noise) => {
          const data = { ...noise, ...forbidden, inburgeraarId: GOLDEN.inburgeraarId };
          expect(projector.project(event(type, data))).toBeUndefined();
        },
      ),
      { numRuns: 500 },
    );
  });

  it('an aanvraag carrying such fields anywhere is refused by the contract or stripped (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PLACES), forbiddenFields, (place, forbidden) => {
        const e = event(AANVRAAG, inject(GOLDEN, place, forbidden));
        const refused = schemas().validateEvent(e).length > 0;
        const disclosure = projector.project(e)!;
        expect(disclosure.categories.filter((c) => FORBIDDEN_CATEGORIES.includes(c))).toEqual([]);
        // Every edge and the adapter's own parse refuse what the chain schema refuses; what
        // passes must come out of the projection clean.
        if (!refused) expect(JSON.stringify(disclosure.event.data)).not.toContain(SENTINEL);
        // The request to the Kredietbank is built field by field: clean either way.
        const body = aanvraagToKredietbank(
          disclosure.event.data as OntzorgenAangevraagd,
          '999990019',
        );
        expect(JSON.stringify(body)).not.toContain(SENTINEL);
        const leaked = keysOf(body).filter((k) => FORBIDDEN_KEYS.includes(k));
        expect(leaked).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('top-level and client-level extras never pass the projection, even unvalidated (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('', 'client'), forbiddenFields, (place, forbidden) => {
        const disclosure = projector.project(event(AANVRAAG, inject(GOLDEN, place, forbidden)))!;
        expect(JSON.stringify(disclosure.event.data)).not.toContain(SENTINEL);
      }),
      { numRuns: 200 },
    );
  });
});
