import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { JsMsg } from '@nats-io/jetstream';
import { schemas } from '@ketenhub/contracts';
import type { PipVastgesteld, TaalaanbiederAanmelding } from '@ketenhub/contracts/generated';
import {
  buildEvent,
  createLogger,
  createProjector,
  type Event,
  type PartnerClient,
  type PartnerRequest,
  type ProcessingRecord,
} from '@ketenhub/kit';
import { createAanmeldingHandler } from './aanmelding.ts';
import { createTrajectPseudonymizer, memoryTrajectStore } from './traject.ts';
import { PIP_VASTGESTELD, pipToAanmelding } from './translate.ts';

/**
 * Sentinels: every value a school must never see is this string. Whatever the event type and
 * however the forbidden data is nested, neither the sentinel nor a forbidden key may survive
 * the taalaanbieder projection (nor the aanmelding built from it).
 */
const SENTINEL = 'SENTINEL-999990019';
const FORBIDDEN_KEYS = [
  'inburgeraarId',
  'bsn',
  'vnummer',
  'vNummer',
  'persoon',
  'gezondheid',
  'medisch',
  'uitkering',
  'uitkeringsbedrag',
  'iban',
  'clientIban',
  'rekeningnummer',
];

/** Every property name any schema knows, so generated data looks like real events. */
function propertyNames(): string[] {
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (o.properties && typeof o.properties === 'object') {
      for (const k of Object.keys(o.properties)) names.add(k);
    }
    Object.values(o).forEach(walk);
  };
  for (const e of schemas().entries()) walk(e.schema);
  for (const k of FORBIDDEN_KEYS) names.delete(k);
  return [...names];
}
const KEYS = propertyNames();

const poisoned = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 8 }),
    fc.integer(),
    fc.boolean(),
    tie('object'),
    fc.array(tie('object'), { maxLength: 2 }),
  ),
  forbidden: fc.oneof(
    fc.constant(SENTINEL),
    fc.constant({ waarde: SENTINEL }),
    fc.constant([SENTINEL]),
  ),
  object: fc
    .tuple(
      fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 6 }),
      fc.dictionary(fc.constantFrom(...FORBIDDEN_KEYS), tie('forbidden'), {
        minKeys: 1,
        maxKeys: 3,
      }),
    )
    .map(([a, b]) => ({ ...a, ...b })),
}));

function keysOf(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => keysOf(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      keysOf(v, out);
    }
  }
  return out;
}

describe('a taalaanbieder never receives BSN, V-nummer, benefit, IBAN or health data', () => {
  const projector = createProjector('taalaanbieder');
  const pseudonyms = createTrajectPseudonymizer('k'.repeat(40));

  it('over generated events of every catalogue type (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...schemas().eventTypes()),
        poisoned.object as fc.Arbitrary<Record<string, unknown>>,
        (type, data) => {
          const d = projector.project({ type, data });
          if (!d) return;
          // The aanmelding handler refuses an event off the chain contract before projecting
          // it (aanmelding.ts), so a field of the wrong shape (an object where the schema says a
          // date) never reaches the projection; the leaf allow-list is what this property checks.
          const entry = schemas().byEventType(type);
          if (entry && schemas().validate(entry.id, data).length > 0) return;
          const out = JSON.stringify(d.event.data);
          expect(out).not.toContain(SENTINEL);
          for (const k of keysOf(d.event.data)) expect(FORBIDDEN_KEYS).not.toContain(k);
          if (type !== PIP_VASTGESTELD) return;
          let aanmelding: TaalaanbiederAanmelding;
          try {
            aanmelding = pipToAanmelding(d.event.data, {
              trajectId: pseudonyms.trajectId(`ih-${'a'.repeat(32)}`, 's'),
              aanmeldingId: '4b3c2a1e-0000-4000-8000-000000000001',
            });
          } catch {
            return; // refused by the aanmelding contract: nothing is sent at all
          }
          expect(JSON.stringify(aanmelding)).not.toContain(SENTINEL);
          for (const k of keysOf(aanmelding)) expect(FORBIDDEN_KEYS).not.toContain(k);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('only pip.vastgesteld reaches a taalaanbieder at all', () => {
    expect(projector.eventTypes).toEqual([PIP_VASTGESTELD]);
  });
});

const SCHOOLS = ['taalschool-noord', 'taalschool-zuid', 'rocmeierij'];
const hex32 = fc.string({
  unit: fc.constantFrom(...'0123456789abcdef'),
  minLength: 32,
  maxLength: 32,
});

const pipArb = fc.record({
  n: fc.nat(),
  inburgeraar: hex32,
  gemeente: fc.constantFrom('gm0797', 'gm0796', 'gm0865'),
  school: fc.option(fc.constantFrom(...SCHOOLS, 'onbekende-school'), { nil: undefined }),
  leerroute: fc.constantFrom('b1-route' as const, 'onderwijsroute' as const, 'z-route' as const),
});

type PipArb = typeof pipArb extends fc.Arbitrary<infer T> ? T : never;

function pip(p: PipArb & { index: number }): Event<PipVastgesteld> {
  return buildEvent<PipVastgesteld>({
    id: `4b3c2a1e-0000-4000-8000-${String(p.index).padStart(12, '0')}`,
    type: PIP_VASTGESTELD,
    source: 'urn:nld:oin:00000001234567890000:systeem:gemeente-kvs',
    gemeente: p.gemeente,
    data: {
      inburgeraarId: `ih-${p.inburgeraar}`,
      gemeenteCode: p.gemeente,
      pipId: `PIP-${p.index}`,
      dagtekening: '2026-10-01',
      leerroute: p.leerroute,
      ...(p.school ? { taalaanbieder: p.school } : {}),
      deelnemer: { voornamen: 'Test', geslachtsnaam: `Persoon ${p.index}` },
    },
  });
}

describe('each school hears about its own learners only', () => {
  it('over generated PIPs naming random schools (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(pipArb, { minLength: 1, maxLength: 20 }), async (arbs) => {
        const events = arbs.map((a, index) => pip({ ...a, index }));
        const trajecten = memoryTrajectStore();
        const pseudonyms = createTrajectPseudonymizer('k'.repeat(40));
        const received = new Map<string, TaalaanbiederAanmelding[]>();
        const handlers = SCHOOLS.map((school) => {
          received.set(school, []);
          const client = {
            request: async (req: PartnerRequest) => {
              received.get(school)!.push(req.data as TaalaanbiederAanmelding);
              return { status: 201, data: {}, headers: {} };
            },
          } as unknown as PartnerClient;
          return createAanmeldingHandler({
            taalaanbieder: school,
            client,
            projector: createProjector('taalaanbieder'),
            processingLog: { record: async (_r: Omit<ProcessingRecord, 'tijdstip'>) => {} },
            pseudonyms,
            trajecten,
            publish: async () => {},
            ctx: { source: 'urn:nld:oin:00000001234567890000:systeem:taalaanbieder' },
            logger: createLogger('test', { level: 'silent' }),
          });
        });
        for (const e of events) {
          const m = {
            subject: `keten.${e.gemeente}.pip.vastgesteld`,
            headers: undefined,
            json: () => structuredClone(e),
          } as unknown as JsMsg;
          for (const h of handlers) await h(m);
        }
        for (const school of SCHOOLS) {
          const got = received.get(school)!;
          const expected = events.filter((e) => e.data.taalaanbieder === school);
          expect(got.length).toBe(expected.length);
          for (const a of got) {
            const t = await trajecten.get(a.trajectId);
            expect(t?.taalaanbieder).toBe(school);
            const source = expected.find((e) => e.data.inburgeraarId === t?.inburgeraarId);
            expect(source).toBeDefined();
            expect(a.gemeenteCode).toBe(t?.gemeente);
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});
