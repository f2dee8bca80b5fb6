import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { setTimeout as sleep } from 'node:timers/promises';
import { InfrastructureError } from './errors.ts';

/**
 * The hours ledger (urengrootboek): per person, gemeente and kind of hours, the total each
 * source reported (a school for its traject, the gemeente's KVS for the rest), and their sum,
 * which is what DUO keeps: one total per person and kind, hours of an earlier leerroute
 * included (docs/adr/0023-uren-grootboek.md). A source reports its own total to date, so its
 * contribution is replaced, never added: a redelivered or replayed report changes nothing, and
 * an older report (by its event time, then its id) never replaces a newer one.
 *
 * Key `<gemeente>.<inburgeraarId>.<soort>`: no BSN, only the hub's pseudonym.
 */
export const UREN_LEDGER_BUCKET = 'UREN_GROOTBOEK';

/**
 * Kept as long as a traject can run and be disputed: the 3-year termijn with extensions
 * (3.5 years) and a year for bezwaar and beroep; renewed with every report.
 */
export const UREN_LEDGER_TTL_DAYS = 5 * 366;

/** The kinds of hours DUO keeps (the chain contract's `UrenSoort`). */
export const UREN_SOORTEN = [
  'participatie-als-taalles',
  'bredeintake-taalles-knm',
  'zroute-participatieactiviteiten',
] as const;

export interface UrenBijdrage {
  /** The source's own total to date. */
  uren: number;
  /** Event time of the report it came in (ISO); an older one never replaces it. */
  tijd: string;
  /** The chain event that reported it. */
  eventId: string;
}

export interface UrenStand {
  gemeente: string;
  inburgeraarId: string;
  soort: string;
  /** By source: `kvs`, or `taalaanbieder:<id>`. */
  bijdragen: Record<string, UrenBijdrage>;
  /** The sum of the contributions: the total DUO gets. */
  totaal: number;
}

export interface UrenRapport extends UrenBijdrage {
  gemeente: string;
  inburgeraarId: string;
  soort: string;
  bron: string;
}

export interface UrenLedger {
  /**
   * Records a source's total (unless the ledger has a newer report of that source) and returns
   * the stand after it. Safe under concurrent reports about the same person (compare-and-set).
   */
  report(r: UrenRapport): Promise<UrenStand>;
  get(gemeente: string, inburgeraarId: string, soort: string): Promise<UrenStand | undefined>;
  /**
   * Every stand of these pseudonyms in these gemeenten (the inzage), by direct reads: what a
   * read-only NATS user may do.
   */
  forPersons(betrokkenen: string[], gemeenten: string[]): Promise<UrenStand[]>;
}

const keyOf = (gemeente: string, inburgeraarId: string, soort: string) =>
  `${gemeente}.${inburgeraarId}.${soort}`;

const sum = (b: Record<string, UrenBijdrage>) => Object.values(b).reduce((n, x) => n + x.uren, 0);

/** Whether report `a` is newer than `b` (event time, then event id, so the order is total). */
const newer = (a: UrenBijdrage, b: UrenBijdrage) =>
  a.tijd === b.tijd ? a.eventId > b.eventId : a.tijd > b.tijd;

async function readStand(kv: KV, key: string): Promise<{ stand?: UrenStand; revision: number }> {
  const entry = await kv.get(key);
  if (!entry || entry.operation !== 'PUT' || entry.length === 0) {
    return { revision: entry?.revision ?? 0 };
  }
  return { stand: entry.json<UrenStand>(), revision: entry.revision };
}

/** Opens (or creates) the ledger's KV bucket; every failure is retryable (InfrastructureError). */
export async function openUrenLedger(
  nc: NatsConnection,
  opts: { replicas?: number; ttlDays?: number } = {},
): Promise<UrenLedger> {
  let kv: KV;
  try {
    kv = await new Kvm(nc).create(UREN_LEDGER_BUCKET, {
      history: 1,
      ttl: (opts.ttlDays ?? UREN_LEDGER_TTL_DAYS) * 24 * 60 * 60 * 1000,
      replicas: opts.replicas ?? 1,
      description: 'hours per person, gemeente and kind, by source; their sum is what DUO gets',
    });
  } catch (err) {
    throw new InfrastructureError('hours ledger unavailable', { cause: err });
  }
  return {
    async report(r) {
      const key = keyOf(r.gemeente, r.inburgeraarId, r.soort);
      const bijdrage: UrenBijdrage = { uren: r.uren, tijd: r.tijd, eventId: r.eventId };
      for (let attempt = 0; attempt < 50; attempt++) {
        // After a lost race, a short random pause, so the racers do not meet again.
        if (attempt > 0) await sleep(Math.random() * 5 * Math.min(attempt, 10));
        try {
          const { stand, revision } = await readStand(kv, key);
          const held = stand?.bijdragen[r.bron];
          if (stand && held && !newer(bijdrage, held)) return stand;
          const bijdragen = { ...stand?.bijdragen, [r.bron]: bijdrage };
          const next: UrenStand = {
            gemeente: r.gemeente,
            inburgeraarId: r.inburgeraarId,
            soort: r.soort,
            bijdragen,
            totaal: sum(bijdragen),
          };
          const body = JSON.stringify(next);
          if (revision === 0) await kv.create(key, body);
          else await kv.update(key, body, revision);
          return next;
        } catch (err) {
          // Another report about this person and kind came in between: read again.
          if (!/wrong last sequence|key exists/i.test((err as Error).message)) {
            throw new InfrastructureError('hours ledger unavailable', { cause: err });
          }
        }
      }
      throw new InfrastructureError('hours ledger: too many concurrent reports');
    },
    async get(gemeente, inburgeraarId, soort) {
      try {
        return (await readStand(kv, keyOf(gemeente, inburgeraarId, soort))).stand;
      } catch (err) {
        throw new InfrastructureError('hours ledger unavailable', { cause: err });
      }
    },
    async forPersons(betrokkenen, gemeenten) {
      try {
        const keys = betrokkenen.flatMap((id) =>
          gemeenten.flatMap((g) => UREN_SOORTEN.map((s) => keyOf(g, id, s))),
        );
        const stands = await Promise.all(keys.map(async (k) => (await readStand(kv, k)).stand));
        return stands.filter((x): x is UrenStand => x !== undefined);
      } catch (err) {
        throw new InfrastructureError('hours ledger unavailable', { cause: err });
      }
    },
  };
}
