import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { PolicySet } from '@ketenhub/contracts';
import { STREAMS } from './nats.ts';
import type { DisclosureStatus, ProcessingRecord } from './processing-log.ts';

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
  /** Restrict to these gemeenten (a gemeente's officer sees only its own); all when absent. */
  gemeenten?: string[];
  /** Include attempts that did not disclose (mislukt/geweigerd). Default false. */
  includeFailed?: boolean;
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
  const subjects = query.gemeenten?.length
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
