import type { JsMsg } from '@nats-io/jetstream';
import { schemas } from '@ketenhub/contracts';
import type { OntzorgenAangevraagd } from '@ketenhub/contracts/generated';
import {
  ValidationError,
  childSpan,
  parseTraceparent,
  type Event,
  type IdentityStore,
  type Logger,
  type Outcome,
  type ProcessingLog,
  type Projector,
} from '@ketenhub/kit';
import type { KredietbankClient } from './kredietbank-client.ts';
import type { TrajectStore } from './trajecten.ts';
import {
  KREDIETBANK_TRAJECT_SCHEMA,
  aanvraagToKredietbank,
  aanvraagViolations,
} from './translate.ts';

export const KREDIETBANK_PARTNER = 'kredietbank';

export interface KredietbankDeps {
  kredietbank: KredietbankClient;
  identities: IdentityStore;
  trajecten: TrajectStore;
  projector: Projector;
  processingLog: ProcessingLog;
  logger: Logger;
}

type Incoming = Event<OntzorgenAangevraagd> & { gemeente: string };

function parse(m: JsMsg): Incoming {
  const event = m.json<Incoming>();
  const violations = schemas().validateEvent(event);
  if (violations.length > 0) throw new ValidationError('not a valid chain event', violations);
  return event;
}

/**
 * ontzorgen.aangevraagd → the Kredietbank: project to what the kredietbank policy allows,
 * check IBANs and amounts again (the KVS edge did, but a replayed or hand-published message
 * must not reach a bank unchecked), resolve the BSN (the Kredietbank works by BSN), log the
 * disclosure (fail closed), register or change the traject with the event id as idempotency
 * key. A refusal by the Kredietbank (4xx) is dead-lettered with its reason; 5xx/timeouts are
 * retried by runService.
 */
export function createAanvraagHandler(deps: KredietbankDeps): (m: JsMsg) => Promise<Outcome> {
  return async (m) => {
    const event = parse(m);
    const disclosure = deps.projector.project(event);
    if (!disclosure) return 'skipped';
    const data = disclosure.event.data as OntzorgenAangevraagd;
    const violations = aanvraagViolations(data);
    if (violations.length > 0) throw new ValidationError('aanvraag cannot be paid', violations);

    const bsn = (await deps.identities.get(data.inburgeraarId))?.bsn;
    if (!bsn) {
      // Dead-lettered, replayable once the vestiging (with BSN) has reached the hub.
      throw new ValidationError('no BSN known for this person', [
        {
          field: 'data.inburgeraarId',
          rule: 'bsn known',
          message: 'the Kredietbank registers a traject by BSN; no koppeling or vestiging seen',
        },
      ]);
    }
    const body = aanvraagToKredietbank(data, bsn);
    const bodyViolations = schemas().validate(KREDIETBANK_TRAJECT_SCHEMA, body);
    if (bodyViolations.length > 0) {
      throw new ValidationError('aanvraag breaks the Kredietbank contract', bodyViolations);
    }
    // Before the call: the Kredietbank may send its first webhook before it answers.
    await deps.trajecten.put({
      trajectId: data.trajectId,
      inburgeraarId: data.inburgeraarId,
      gemeente: event.gemeente,
    });

    const parent = parseTraceparent(m.headers?.get('traceparent'));
    const span = childSpan(parent);
    const record = {
      traceId: span.traceId,
      spanId: span.spanId,
      ...(parent ? { parentSpanId: parent.spanId } : {}),
      activiteit: disclosure.activity,
      ontvanger: { partner: KREDIETBANK_PARTNER, endpoint: 'ontzorgtrajecten' },
      betrokkene: data.inburgeraarId,
      // The BSN is disclosed as well, though it is not a field of the event.
      categorieen: [...new Set([...disclosure.categories, 'identificatie'])].sort(),
      gemeente: event.gemeente,
      eventId: event.id,
      eventType: event.type,
    };
    await deps.processingLog.record({ ...record, status: 'gestart' });
    let gewijzigd: boolean;
    try {
      ({ gewijzigd } = await deps.kredietbank.registerOrChange(body, event.id));
    } catch (err) {
      const status = (err as { retryable?: boolean }).retryable ? 'mislukt' : 'geweigerd';
      await deps.processingLog.record({ ...record, status }).catch(() => undefined);
      throw err;
    }
    await deps.processingLog.record({ ...record, status: 'verstrekt' }).catch((err: Error) => {
      deps.logger.warn({ eventId: event.id, err: err.message }, 'outcome record not written');
    });
    deps.logger.info(
      { eventId: event.id, gemeente: event.gemeente, gewijzigd },
      gewijzigd ? 'ontzorgtraject changed' : 'ontzorgtraject registered',
    );
    return 'delivered';
  };
}
