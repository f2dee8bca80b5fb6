/**
 * What a chaos scenario delivered, judged the way the partner sees it: from the KVS
 * simulator's read-back, not from the hub's own metrics, so a hub that believes it delivered
 * but did not is caught.
 */

/** One event the hub accepted (a row in a 2xx answer of the COA API). */
export interface SentEvent {
  eventId: string;
  koppelingId: string;
  /** CBS code of the gemeente whose KVS must get it, e.g. `gm0797`. */
  gemeente: string;
}

/** One event as the KVS simulator stored it (GET /_sim/gemeenten/:code/events). */
export interface StoredView {
  gemeente: string;
  id: string;
  /** 1 + the later deliveries the KVS refused as duplicate-event (409). */
  deliveries: number;
  receivedAt: string;
  koppelingId?: string;
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
  /** Distinct sent event ids stored at the right gemeente. */
  delivered: number;
  /** sent − delivered − deadLettered. */
  lost: number;
  /** Business duplicates: an event id stored at more than one gemeente, or a koppeling stored
   * under more than one event id. */
  duplicated: number;
  /** Repeat deliveries the KVS refused with 409 duplicate-event: expected after a crash. */
  redeliveries: number;
  /** Distinct sent event ids in the dead-letter stream and not delivered. */
  deadLettered: number;
  /** Messages in the dead-letter stream (several for one event would be a doubling). */
  deadLetterMessages: number;
  /** Dead-lettered and still delivered: a replay would deliver it twice. */
  deadLetteredAndDelivered: number;
  /** Sent events stored at another gemeente than their own. */
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
      if (s.gemeente !== e.gemeente) {
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
  const idsByKoppeling = new Map<string, Set<string>>();
  for (const s of input.stored) {
    if (s.koppelingId === undefined) continue;
    const ids = idsByKoppeling.get(s.koppelingId) ?? new Set<string>();
    ids.add(s.id);
    idsByKoppeling.set(s.koppelingId, ids);
  }
  for (const ids of idsByKoppeling.values()) duplicated += ids.size - 1;

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
