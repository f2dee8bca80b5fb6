/**
 * What a chaos scenario delivered, judged the way the partner sees it: from the partner
 * simulator's read-back (the KVS, DUO, the Kredietbank, the schools, corporaties and
 * VluchtelingenWerk offices), not from the hub's own metrics, so a hub that believes it
 * delivered but did not is caught.
 */

/** One event the hub accepted (a row in a 2xx answer of the COA API, a 202 of the KVS API). */
export interface SentEvent {
  eventId: string;
  /**
   * What the partner registers it under, so one thing stored under two ids shows as a doubling:
   * the koppelingId (KVS), the person's BSN (a PIP at DUO), the trajectId (an aanvraag at the
   * Kredietbank), the deelnemer (an aanmelding at a school), the aanvraagId (a zoektocht at a
   * corporatie, a begeleiding at a VluchtelingenWerk office).
   */
  key: string;
  /** Where it must arrive: the gemeente (`gm0797`) at the KVS, DUO or the Kredietbank, or the
   * id of the organisation (school, corporatie, office). */
  to: string;
}

/** One delivery as the partner simulator stored it. */
export interface StoredView {
  /** Where it arrived (the gemeente or the organisation, as SentEvent.to). */
  to: string;
  /** The id of the sent event it is; a delivery that matches none has an id of its own. */
  id: string;
  /** 1 + the later deliveries the partner answered as repeats (the KVS's 409, an idempotent
   * replay). */
  deliveries: number;
  receivedAt: string;
  key?: string;
}

export interface MeasureInput {
  sent: SentEvent[];
  stored: StoredView[];
  /** Event ids read from the dead-letter stream, one per dead letter. */
  deadLetterIds: string[];
  /** When the fault ended (ms since the epoch). */
  faultEndMs: number;
}

export interface Measured {
  sent: number;
  /** Distinct sent event ids stored at the right gemeente or organisation. */
  delivered: number;
  /** sent − delivered − deadLettered. */
  lost: number;
  /** Business duplicates: an event stored twice (also at two places), or one key (koppeling,
   * person, traject) stored under more than one event id. */
  duplicated: number;
  /** Repeat deliveries the partner recognised as such (the KVS's 409 duplicate-event, an
   * idempotent replay): expected after a crash. */
  redeliveries: number;
  /** Distinct sent event ids in the dead-letter stream and not delivered. */
  deadLettered: number;
  /** Messages in the dead-letter stream (several for one event would be a doubling). */
  deadLetterMessages: number;
  /** Dead-lettered and still delivered: a replay would deliver it twice. */
  deadLetteredAndDelivered: number;
  /** Sent events stored at another gemeente or organisation than their own. */
  misrouted: number;
  /** Stored events the hub never accepted. */
  unexpected: number;
  /** From the end of the fault to the last delivery of a sent event; 0 when all came before. */
  recoverySeconds: number;
  /** Sent ids neither delivered nor dead-lettered (at most 20, for the report). */
  missingSample: string[];
}

export function measure(input: MeasureInput): Measured {
  const sentById = new Map(input.sent.map((e) => [e.eventId, e]));
  const storedById = new Map<string, StoredView[]>();
  for (const s of input.stored) {
    const list = storedById.get(s.id) ?? [];
    list.push(s);
    storedById.set(s.id, list);
  }

  let delivered = 0;
  let misrouted = 0;
  let lastDelivery = Number.NEGATIVE_INFINITY;
  const deliveredIds = new Set<string>();
  for (const e of sentById.values()) {
    for (const s of storedById.get(e.eventId) ?? []) {
      if (s.to !== e.to) {
        misrouted++;
        continue;
      }
      if (!deliveredIds.has(e.eventId)) {
        deliveredIds.add(e.eventId);
        delivered++;
        lastDelivery = Math.max(lastDelivery, Date.parse(s.receivedAt));
      }
    }
  }

  let duplicated = 0;
  for (const list of storedById.values()) duplicated += list.length - 1;
  const idsByKey = new Map<string, Set<string>>();
  for (const s of input.stored) {
    if (s.key === undefined) continue;
    const ids = idsByKey.get(s.key) ?? new Set<string>();
    ids.add(s.id);
    idsByKey.set(s.key, ids);
  }
  for (const ids of idsByKey.values()) duplicated += ids.size - 1;

  const redeliveries = input.stored.reduce((n, s) => n + Math.max(0, s.deliveries - 1), 0);
  const unexpected = [...storedById.keys()].filter((id) => !sentById.has(id)).length;

  const dlqIds = new Set(input.deadLetterIds.filter((id) => sentById.has(id)));
  let deadLettered = 0;
  let deadLetteredAndDelivered = 0;
  for (const id of dlqIds) {
    if (deliveredIds.has(id)) deadLetteredAndDelivered++;
    else deadLettered++;
  }

  const missingSample: string[] = [];
  for (const id of sentById.keys()) {
    if (missingSample.length >= 20) break;
    if (!deliveredIds.has(id) && !dlqIds.has(id)) missingSample.push(id);
  }

  const recovery =
    lastDelivery === Number.NEGATIVE_INFINITY
      ? 0
      : Math.max(0, (lastDelivery - input.faultEndMs) / 1000);
  return {
    sent: sentById.size,
    delivered,
    lost: sentById.size - delivered - deadLettered,
    duplicated,
    redeliveries,
    deadLettered,
    deadLetterMessages: input.deadLetterIds.length,
    deadLetteredAndDelivered,
    misrouted,
    unexpected,
    recoverySeconds: Math.round(recovery * 10) / 10,
    missingSample,
  };
}
