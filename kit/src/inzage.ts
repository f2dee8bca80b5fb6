import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { PolicySet } from '@ketenhub/contracts';
import { STREAMS } from './nats.ts';
import type { DisclosureStatus, ProcessingRecord } from './processing-log.ts';
import { createPseudonymizer } from './pseudonym.ts';

/**
 * Right of access (AVG art. 15): every disclosure of data about one person, read from the
 * processing log and explained with the register (purpose, legal basis, categories). A
 * disclosure is one span: its `gestart` record and, when written, its outcome record.
 */
export interface DisclosureView {
  tijdstip: string;
  ontvanger: { partner: string; endpoint: string };
  gemeente: string;
  /** verstrekt | geweigerd | mislukt, or `gestart` when no outcome was recorded (possibly disclosed). */
  status: DisclosureStatus;
  activiteit: {
    id: string;
    naam: string;
    doel: string;
    grondslag: { wet: string; avg?: string; dpv: string };
  };
  categorieen: { id: string; naam: string; bijzonder: boolean }[];
  eventType: string;
  eventId: string;
  traceId: string;
  spanId: string;
}

export interface InzageQuery {
  /** Pseudonyms of the person (of the BSN, and of the V-nummer when it was known without BSN). */
  betrokkenen: string[];
  /**
   * Restrict to these gemeenten (a gemeente's officer sees only its own); all when absent. An
   * empty list means none: a credential bound to no gemeente must not fall through to all.
   */
  gemeenten?: string[];
  /** Include attempts that did not disclose (mislukt/geweigerd). Default false. */
  includeFailed?: boolean;
}

/** The person an inzage is about, as the privacy officer knows them. */
export interface InzagePerson {
  /** A valid BSN (the caller checks it with `bsnProblem`). */
  bsn?: string | undefined;
  /** A V-nummer as `normaliseVnummer` returns it (10 digits). */
  vnummer?: string | undefined;
}

/**
 * The pseudonym keys an inzage must try: the current key and, during a key rotation, the
 * previous one (`KETENHUB_PSEUDONYM_KEY_PREVIOUS`), because records made under it are still in
 * the processing log until they pass their retention (docs/privacy.md).
 */
export function inzageKeys(current: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const previous = env.KETENHUB_PSEUDONYM_KEY_PREVIOUS;
  return previous && previous !== current ? [current, previous] : [current];
}

/**
 * Every pseudonym under which the processing log may know this person: per key, the one of the
 * BSN and the one of the V-nummer (a person known first by V-nummer and later by BSN has both).
 * The one computation behind `npm run inzage` and the admin API, so both find the same records.
 */
export function inzagePseudonyms(person: InzagePerson, keys: string[]): string[] {
  const out = new Set<string>();
  for (const key of keys) {
    const pseudonymizer = createPseudonymizer(key);
    if (person.bsn) out.add(pseudonymizer.inburgeraarId({ bsn: person.bsn, vnummer: '' }));
    if (person.vnummer) out.add(pseudonymizer.inburgeraarId({ vnummer: person.vnummer }));
  }
  return [...out];
}

const OUTCOME_RANK: Record<DisclosureStatus, number> = {
  gestart: 0,
  mislukt: 1,
  geweigerd: 1,
  verstrekt: 2,
};

/**
 * Reads the processing log of the selected gemeenten. It scans the stream: fine for the
 * volumes of a region (the log holds a few records per person per month); a national
 * deployment would index records by pseudonym (noted in docs/privacy.md).
 */
export async function disclosuresFor(
  js: JetStreamClient,
  jsm: JetStreamManager,
  policySet: PolicySet,
  query: InzageQuery,
): Promise<DisclosureView[]> {
  const wanted = new Set(query.betrokkenen);
  const subjects = query.gemeenten
    ? query.gemeenten.map((g) => `verwerking.${g}.>`)
    : ['verwerking.>'];
  const spans = new Map<string, ProcessingRecord & { startedAt: string }>();

  for (const subject of subjects) {
    const info = await jsm.streams
      .info(STREAMS.processingLog, { subjects_filter: subject })
      .catch(() => undefined);
    const total = Object.values(info?.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    if (total === 0) continue;
    const consumer = await js.consumers.get(STREAMS.processingLog, { filter_subjects: subject });
    try {
      let seen = 0;
      while (seen < total) {
        const batch = await consumer.fetch({
          max_messages: Math.min(5000, total - seen),
          expires: 2000,
        });
        let got = 0;
        for await (const m of batch) {
          got++;
          seen++;
          const rec = m.json<ProcessingRecord>();
          if (!wanted.has(rec.betrokkene)) continue;
          const known = spans.get(rec.spanId);
          if (!known) spans.set(rec.spanId, { ...rec, startedAt: rec.tijdstip });
          else {
            const startedAt = rec.status === 'gestart' ? rec.tijdstip : known.startedAt;
            const latest = OUTCOME_RANK[rec.status] > OUTCOME_RANK[known.status] ? rec : known;
            spans.set(rec.spanId, { ...latest, startedAt });
          }
        }
        if (got === 0) break;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }

  const { register } = policySet;
  return [...spans.values()]
    .filter((r) => query.includeFailed || r.status === 'verstrekt' || r.status === 'gestart')
    .map((r): DisclosureView => {
      const a = policySet.activity(r.activiteit);
      return {
        tijdstip: r.startedAt,
        ontvanger: r.ontvanger,
        gemeente: r.gemeente,
        status: r.status,
        activiteit: { id: a.id, naam: a.naam, doel: a.doel, grondslag: a.grondslag },
        categorieen: r.categorieen.map((id) => ({
          id,
          naam: register.categorieen[id]?.naam ?? id,
          bijzonder: register.categorieen[id]?.bijzonder ?? false,
        })),
        eventType: r.eventType,
        eventId: r.eventId,
        traceId: r.traceId,
        spanId: r.spanId,
      };
    })
    .sort((a, b) => a.tijdstip.localeCompare(b.tijdstip));
}
