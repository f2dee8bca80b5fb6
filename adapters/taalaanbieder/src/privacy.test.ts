import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { JsMsg } from '@nats-io/jetstream';
import { policies, schemas } from '@ketenhub/contracts';
import type { PipVastgesteld } from '@ketenhub/contracts/generated';
import type { TaalaanbiederAanmelding } from '@ketenhub/contracts/generated/taalaanbieder';
import { eventDataArbitrary, privacyPlan, type Planted } from '@ketenhub/contracts/testing';
import {
  buildEvent,
  createLogger,
  type Event,
  type PartnerClient,
  type PartnerRequest,
} from '@ketenhub/kit';
import { createProjector, type PersonRegister, type ProcessingRecord } from '@ketenhub/kit/privacy';
import { createAanmeldingHandler } from './aanmelding.ts';
import { createTrajectPseudonymizer, memoryTrajectStore } from './traject.ts';
import { PIP_VASTGESTELD, SCHEMA, pipToAanmelding } from './translate.ts';

/**
 * AVG data minimisation for the language schools, as properties over the whole catalogue:
 * schema-valid events of every type (contracts/testing generates them from the schemas), with
 * an unmistakable sentinel in every field a school must never see. What is forbidden comes from
 * the contracts: every register category that no activity sending to a taalaanbieder processes
 * (BSN and V-nummer, benefit and IBAN, health, ...), the fields the policies file under them,
 * the `$defs` only used for them (Bsn, Iban, BedragCent, ...) and, by the taalaanbieder policy,
 * the hub's inburgeraarId. Neither a sentinel nor a forbidden key may survive the taalaanbieder
 * projection, nor the aanmelding built from it.
 */

const PARTNER = 'taalaanbieder';
const plan = privacyPlan({
  partner: PARTNER,
  // inburgeraarId stays in the hub (policies/taalaanbieder.yaml): the school gets a traject
  // pseudonym. The other names are what the school must never get, whatever a schema calls them.
  forbiddenFields: ['inburgeraarId', 'bsn', 'vnummer', 'iban', 'uitkering', 'gezondheid'],
  ownSchemas: [SCHEMA.aanmelding],
});
const TYPES = schemas().eventTypes();
const RUNS = 300;
/** The one type that reaches a school gets more runs. */
const PIP_RUNS = 1000;
const TRAJECT = `tr-${'0'.repeat(32)}`;
const AANMELDING_ID = '4b3c2a1e-0000-4000-8000-000000000001';

function event<D>(type: string, data: D & { gemeenteCode?: string }, index = 0) {
  return buildEvent<D>({
    id: `4b3c2a1e-0000-4000-8000-${String(index).padStart(12, '0')}`,
    type,
    source: 'urn:nld:oin:00000001234567890000:systeem:gemeente-kvs',
    gemeente: data.gemeenteCode ?? 'gm0797',
    data,
  });
}

describe('a taalaanbieder never receives BSN, V-nummer, benefit, IBAN or health data', () => {
  const projector = createProjector(PARTNER);

  it('the register keeps those categories from schools, and the policy asks for none', () => {
    expect(plan.forbiddenCategories).toEqual(
      expect.arrayContaining(['identificatie', 'financieel', 'gezondheid']),
    );
    const rules = Object.values(policies().policy(PARTNER).ontvangt);
    const asked = rules.flatMap((r) => Object.values(r.velden));
    expect(asked.filter((c) => plan.forbiddenCategories.includes(c))).toEqual([]);
    const fields = rules.flatMap((r) => Object.keys(r.velden).flatMap((f) => f.split('.')));
    expect(fields.filter((f) => plan.forbiddenKeys.has(f))).toEqual([]);
  });

  it('it gets no field that another policy files under a forbidden category', () => {
    // The sweep does not plant sentinels where the taalaanbieder policy itself lets a field
    // out; such a field would have to be a reviewed decision, and there is none.
    expect(plan.recategorised()).toEqual([]);
  });

  it('the plan knows where such data sits in the catalogue', () => {
    const where = (type: string) => plan.sites(type).map((s) => s.path);
    expect(where('nl.inburgering.inburgeraar.gekoppeld')).toEqual(
      expect.arrayContaining(['persoon.bsn', 'persoon.vnummer']),
    );
    expect(where('nl.inburgering.inburgeraar.overgedragen')).toEqual(
      expect.arrayContaining(['gezondheid.bijzonderheden']),
    );
    expect(where('nl.inburgering.ontzorgen.aangevraagd')).toEqual(
      expect.arrayContaining(['client.iban', 'uitkeringBedragCent', 'vasteLasten[].iban']),
    );
    expect(where(PIP_VASTGESTELD)).toContain('inburgeraarId');
  });

  for (const type of TYPES) {
    const numRuns = type === PIP_VASTGESTELD ? PIP_RUNS : RUNS;
    it(`over ${numRuns} generated ${type} events with sentinels planted (property)`, () => {
      const stats = { asserted: 0, withSentinels: 0, projected: 0, aanmeldingen: 0 };
      fc.assert(
        fc.property(plan.arbitrary(type), (data) => {
          const e = event(type, data);
          // Every generated event is valid: nothing returns early, and a generator that
          // regresses fails here instead of silently testing nothing.
          expect(schemas().validateEvent(e)).toEqual([]);
          const planted: Planted[] = plan.planted(type, data);
          if (planted.length > 0) stats.withSentinels++;
          const d = projector.project(e);
          if (!d) {
            expect(projector.eventTypes).not.toContain(type);
          } else {
            stats.projected++;
            expect(plan.leaks(d.event.data, planted)).toEqual([]);
            if (type === PIP_VASTGESTELD) {
              const pip = d.event.data as Partial<PipVastgesteld>;
              const build = () =>
                pipToAanmelding(pip, { trajectId: TRAJECT, aanmeldingId: AANMELDING_ID });
              if (pip.deelnemer) {
                expect(plan.leaks(build(), planted)).toEqual([]);
                stats.aanmeldingen++;
              } else {
                expect(build).toThrow(/deelnemer/);
              }
            }
          }
          stats.asserted++;
        }),
        { numRuns },
      );
      expect(stats.asserted).toBe(numRuns);
      // Sentinels did land wherever the schema has a field that can hold one (optional fields
      // are absent in some runs, never in all).
      if (plan.sites(type).some((s) => s.sentinel !== undefined)) {
        expect(stats.withSentinels).toBeGreaterThan(0);
      }
      if (type === PIP_VASTGESTELD) {
        expect(stats.projected).toBe(numRuns);
        expect(stats.aanmeldingen).toBeGreaterThan(numRuns / 4);
      }
    });
  }

  it('only pip.vastgesteld reaches a taalaanbieder at all', () => {
    expect(projector.eventTypes).toEqual([PIP_VASTGESTELD]);
  });
});

const SCHOOLS = ['taalschool-noord', 'taalschool-zuid', 'rocmeierij'];

/** Valid PIPs naming one of the schools, an unknown one, or (optional field) none. */
const pipData = eventDataArbitrary<PipVastgesteld>(PIP_VASTGESTELD, {
  override: (site) =>
    site.path.join('.') === 'taalaanbieder'
      ? fc.constantFrom(...SCHOOLS, 'onbekende-school')
      : undefined,
});

describe('each school hears about its own learners only', () => {
  it('over generated PIPs naming random schools (property)', async () => {
    let asserted = 0;
    await fc.assert(
      fc.asyncProperty(
        // One PIP per person: a traject is per person and school.
        fc.uniqueArray(pipData, { minLength: 1, maxLength: 20, selector: (p) => p.inburgeraarId }),
        async (pips) => {
          const events: Event<PipVastgesteld>[] = pips.map((data, index) =>
            event(PIP_VASTGESTELD, data, index),
          );
          const trajecten = memoryTrajectStore();
          const pseudonyms = createTrajectPseudonymizer('k'.repeat(40));
          const received = new Map<string, TaalaanbiederAanmelding[]>();
          const refused = new Map<string, number>();
          const handlers = SCHOOLS.map((school) => {
            received.set(school, []);
            refused.set(school, 0);
            const client = {
              request: async (req: PartnerRequest) => {
                received.get(school)!.push(req.data as TaalaanbiederAanmelding);
                return { status: 201, data: {}, headers: {} };
              },
            } as unknown as PartnerClient;
            const handle = createAanmeldingHandler({
              taalaanbieder: school,
              client,
              projector: createProjector(PARTNER),
              processingLog: { record: async (_r: Omit<ProcessingRecord, 'tijdstip'>) => {} },
              pseudonyms,
              trajecten,
              // Every learner is a person of the gemeente of their PIP (the tenant check itself
              // is tested against real NATS in kit and test/e2e).
              persons: {
                require: async (gemeente: string, id: string) => {
                  const own = events.find((e) => e.data.inburgeraarId === id)?.gemeente;
                  if (own !== gemeente) throw new Error(`${id} is not of ${gemeente}`);
                },
              } as unknown as PersonRegister,
              publish: async () => {},
              ctx: { source: 'urn:nld:oin:00000001234567890000:systeem:taalaanbieder' },
              logger: createLogger('test', { level: 'silent' }),
            });
            return async (m: JsMsg) => {
              try {
                await handle(m);
              } catch (err) {
                // A PIP for this school without the learner's name cannot be an aanmelding.
                expect((err as Error).name).toBe('ValidationError');
                refused.set(school, refused.get(school)! + 1);
              }
            };
          });
          for (const e of events) {
            expect(schemas().validateEvent(e)).toEqual([]);
            const m = {
              subject: `keten.${e.gemeente}.pip.vastgesteld`,
              headers: undefined,
              info: { deliveryCount: 1 },
              json: () => structuredClone(e),
            } as unknown as JsMsg;
            for (const h of handlers) await h(m);
          }
          for (const school of SCHOOLS) {
            const mine = events.filter((e) => e.data.taalaanbieder === school);
            const expected = mine.filter((e) => e.data.deelnemer);
            expect(refused.get(school)).toBe(mine.length - expected.length);
            const got = received.get(school)!;
            expect(got.length).toBe(expected.length);
            for (const a of got) {
              const t = await trajecten.get(a.trajectId);
              expect(t?.taalaanbieder).toBe(school);
              const source = expected.find((e) => e.data.inburgeraarId === t?.inburgeraarId);
              expect(source).toBeDefined();
              expect(a.gemeenteCode).toBe(t?.gemeente);
              expect(a.deelnemer).toEqual(source!.data.deelnemer);
            }
          }
          asserted++;
        },
      ),
      { numRuns: 100 },
    );
    expect(asserted).toBe(100);
  });
});
