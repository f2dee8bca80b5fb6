import type { JsMsg } from '@nats-io/jetstream';
import type {
  HuurcontractGetekend,
  OntzorgenAangevraagd,
  OntzorgenBeeindigingAangevraagd,
  PipVastgesteld,
} from '@ketenhub/contracts/generated';
import {
  OutOfOrderError,
  PartnerUnavailableError,
  ValidationError,
  messageSpan,
  nameBasedUuid,
  parseChainEvent,
  scopedEventIdOf,
  type Event,
  type Logger,
  type Outcome,
} from '@ketenhub/kit';
import {
  PERSON_WAIT_ATTEMPTS,
  assertContract,
  discloseMessage,
  moneyViolations,
  type Disclosure,
  type IdentityStore,
  type ProcessingLog,
  type Projector,
} from '@ketenhub/kit/privacy';
import type { KredietbankClient } from './kredietbank-client.ts';
import type { TrajectLink, TrajectStore } from './trajecten.ts';
import {
  KREDIETBANK_BEEINDIGING_SCHEMA,
  KREDIETBANK_LOOPTIJD_SCHEMA,
  KREDIETBANK_TRAJECT_SCHEMA,
  KREDIETBANK_WONING_SCHEMA,
  aanvraagToKredietbank,
  aanvraagViolations,
  beeindigingToKredietbank,
  huurcontractToWoning,
  pipToLooptijd,
  type HuurcontractVoorKredietbank,
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

/** What the beeindiging and PIP handlers use: no identity store, they send no BSN. */
export type KredietbankTrajectDeps = Omit<KredietbankDeps, 'identities'>;

type Incoming<D> = Event<D> & { gemeente: string };

/**
 * The chain event, naming one gemeente in subject, envelope and data (kit `parseChainEvent`):
 * what tenant isolation hangs on before a traject of that gemeente is touched.
 */
const parse = <D>(m: JsMsg): Incoming<D> => parseChainEvent<D>(m);

/**
 * The idempotency key of the Kredietbank call an event causes: derived from the event's scoped
 * id (kit `scopedEventIdOf`), so an id chosen by one gemeente's KVS can never stand for another
 * gemeente's (or another partner's) call.
 */
const callKey = (m: JsMsg, event: Incoming<unknown>) =>
  nameBasedUuid(`kredietbank:call:${scopedEventIdOf(m, event)}`);

/**
 * The traject the KVS names must be one the hub registered for this gemeente (the traject store
 * is written by the aanvraag handler), and of this inburgeraar.
 */
async function knownTraject(
  deps: KredietbankTrajectDeps,
  gemeente: string,
  trajectId: string,
  inburgeraarId: string,
  field: string,
): Promise<TrajectLink | undefined> {
  const link = await deps.trajecten.get(gemeente, trajectId);
  if (link && link.inburgeraarId !== inburgeraarId) {
    throw new ValidationError(`traject of another inburgeraar: ${field} (traject of inburgeraar)`, [
      {
        field,
        rule: 'traject of inburgeraar',
        message: 'the hub registered this traject for another inburgeraar',
      },
    ]);
  }
  return link;
}

/**
 * A 404 from the Kredietbank for a traject the hub's traject store knows: the store is written
 * just before the registration call, so the registration is still in flight (being retried, or
 * held by the breaker). Retried rather than dead-lettered; should the registration never
 * succeed, the retries run out and the message is dead-lettered with an alert.
 */
function registrationInFlight(err: unknown): unknown {
  const e = err as { name?: unknown; partnerStatus?: unknown } | null;
  if (e?.name === 'PartnerRejectedError' && e.partnerStatus === 404) {
    return new PartnerUnavailableError(
      'kredietbank/ontzorgtrajecten: traject not (yet) registered at the Kredietbank; its registration is still in flight',
      { cause: err, partnerStatus: 404, rule: 'traject registered' },
    );
  }
  return err;
}

/** `call` as a disclosure to the Kredietbank about `betrokkene` (kit `discloseMessage`). */
function withProcessingLog<T>(
  deps: KredietbankTrajectDeps,
  m: JsMsg,
  event: Incoming<unknown>,
  disclosure: Pick<Disclosure<unknown>, 'activity' | 'categories'>,
  betrokkene: string,
  call: () => Promise<T>,
  alsoDisclosed?: string[],
): Promise<T> {
  return discloseMessage(
    deps,
    {
      span: messageSpan(m),
      event,
      disclosure,
      betrokkene,
      to: { partner: KREDIETBANK_PARTNER, endpoint: 'ontzorgtrajecten' },
      ...(alsoDisclosed ? { alsoDisclosed } : {}),
    },
    call,
  );
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
    const event = parse<OntzorgenAangevraagd>(m);
    const disclosure = deps.projector.project(event);
    if (!disclosure) return 'skipped';
    const data = disclosure.event.data as OntzorgenAangevraagd;
    const violations = aanvraagViolations(data);
    if (violations.length > 0) throw new ValidationError('aanvraag cannot be paid', violations);

    // A person of another gemeente is refused here (TenantMismatchError: dead letter, alert).
    const bsn = (await deps.identities.personOf(event.gemeente, data.inburgeraarId))?.bsn;
    if (!bsn) {
      // The vestiging with the BSN travels on another consumer and may be a moment behind an
      // aanvraag sent right after it: wait a few deliveries. Then dead-lettered, replayable once
      // the vestiging (with BSN) has reached the hub.
      if (m.info.deliveryCount < PERSON_WAIT_ATTEMPTS) {
        throw new OutOfOrderError(
          'no BSN known for this person yet: data.inburgeraarId (vestiging or koppeling first)',
          { field: 'data.inburgeraarId', rule: 'vestiging or koppeling first' },
        );
      }
      throw new ValidationError('no BSN known for this person: data.inburgeraarId (bsn known)', [
        {
          field: 'data.inburgeraarId',
          rule: 'bsn known',
          message: 'the Kredietbank registers a traject by BSN; no koppeling or vestiging seen',
        },
      ]);
    }
    const body = aanvraagToKredietbank(data, bsn);
    assertContract(KREDIETBANK_TRAJECT_SCHEMA, body, 'the Kredietbank contract (aanvraag)');
    // Before the call: the Kredietbank may send its first webhook before it answers.
    await deps.trajecten.put({
      trajectId: data.trajectId,
      inburgeraarId: data.inburgeraarId,
      gemeente: event.gemeente,
    });

    const { gewijzigd } = await withProcessingLog(
      deps,
      m,
      event,
      disclosure,
      data.inburgeraarId,
      () => deps.kredietbank.registerOrChange(body, callKey(m, event)),
      // The BSN is disclosed as well, though it is not a field of the event.
      ['identificatie'],
    );
    deps.logger.info(
      { eventId: event.id, gemeente: event.gemeente, gewijzigd },
      gewijzigd ? 'ontzorgtraject changed' : 'ontzorgtraject registered',
    );
    return 'delivered';
  };
}

/**
 * ontzorgen.beeindiging-aangevraagd → the Kredietbank ends the traject early. The traject must
 * be one the hub registered for this gemeente (else dead letter, rule `traject known`,
 * replayable once the aanvraag has been handled); the call carries only the traject's
 * referentie, the date and the reason, with the event id as idempotency key. The Kredietbank
 * confirms with its `traject.beeindigd` webhook, which becomes ontzorgen.beeindigd to the KVS.
 */
export function createBeeindigingHandler(
  deps: KredietbankTrajectDeps,
): (m: JsMsg) => Promise<Outcome> {
  return async (m) => {
    const event = parse<OntzorgenBeeindigingAangevraagd>(m);
    const disclosure = deps.projector.project(event);
    if (!disclosure) return 'skipped';
    const data = disclosure.event.data as OntzorgenBeeindigingAangevraagd;
    const link = await knownTraject(
      deps,
      event.gemeente,
      data.trajectId,
      data.inburgeraarId,
      'data.trajectId',
    );
    if (!link) {
      throw new ValidationError('unknown traject: data.trajectId (traject known)', [
        {
          field: 'data.trajectId',
          rule: 'traject known',
          message:
            'the hub registered no such ontzorgtraject for this gemeente; replay after its ontzorgen.aangevraagd',
        },
      ]);
    }
    const call = beeindigingToKredietbank(data);
    assertContract(
      KREDIETBANK_BEEINDIGING_SCHEMA,
      call.body,
      'the Kredietbank contract (beeindiging)',
    );
    await withProcessingLog(deps, m, event, disclosure, data.inburgeraarId, () =>
      deps.kredietbank
        .end(call.gemeentecode, call.referentie, call.body, callKey(m, event))
        .catch((err: unknown) => {
          throw registrationInFlight(err);
        }),
    );
    deps.logger.info({ eventId: event.id, gemeente: event.gemeente }, 'ontzorgtraject ended');
    return 'delivered';
  };
}

/**
 * pip.vastgesteld → the Kredietbank, only when the PIP contains ontzorgen: the PIP decides
 * ontzorgen and its extension, and the Kredietbank gets only the new end date of the traject
 * with the PIP's id and dagtekening. A PIP without ontzorgen is skipped before anything is
 * disclosed or logged. A PIP naming a traject the hub has not registered (yet) is skipped too,
 * with an info log: the ontzorgen.aangevraagd that registers the traject carries its own
 * einddatum, which the KVS sets from the same PIP. A traject the hub knows gets its end moved
 * (PUT …/looptijd, idempotency key derived from the event's scoped id); the Kredietbank then pays on to the new end.
 */
export function createPipHandler(deps: KredietbankTrajectDeps): (m: JsMsg) => Promise<Outcome> {
  return async (m) => {
    const event = parse<PipVastgesteld>(m);
    const disclosure = deps.projector.project(event);
    if (!disclosure) return 'skipped';
    const data = disclosure.event.data as PipVastgesteld;
    const call = pipToLooptijd(data);
    if (!data.ontzorgen || !call) return 'skipped';
    const link = await knownTraject(
      deps,
      event.gemeente,
      data.ontzorgen.trajectId,
      data.inburgeraarId,
      'data.ontzorgen.trajectId',
    );
    if (!link) {
      deps.logger.info(
        { eventId: event.id, gemeente: event.gemeente },
        'PIP with ontzorgen for a traject the hub has not registered: skipped (its aanvraag carries the einddatum)',
      );
      return 'skipped';
    }
    assertContract(KREDIETBANK_LOOPTIJD_SCHEMA, call.body, 'the Kredietbank contract (looptijd)');
    await withProcessingLog(deps, m, event, disclosure, data.inburgeraarId, () =>
      deps.kredietbank
        .changeLooptijd(call.gemeentecode, call.referentie, call.body, callKey(m, event))
        .catch((err: unknown) => {
          throw registrationInFlight(err);
        }),
    );
    deps.logger.info(
      { eventId: event.id, gemeente: event.gemeente },
      'ontzorgtraject end moved by PIP',
    );
    return 'delivered';
  };
}

/**
 * huurcontract.getekend → the Kredietbank, only for a client whose traject the hub registered
 * for this gemeente (docs/adr/0021-huurcontract-naar-kredietbank.md): the traject gets the new
 * address and pays the rent to the corporatie's account from the first month of the lease
 * (PUT …/woning). A lease of anyone else is skipped before anything is disclosed or logged: the
 * gemeente's KVS has the lease too, and an ontzorgen.aangevraagd it sends later carries the new
 * home. The corporatie's IBAN is checked again (mod-97) before a bank pays to it. A traject that
 * has ended meanwhile (409 from the Kredietbank) leaves nothing to change: skipped with an info
 * log, the refusal in the processing log; a 404 for a traject the store knows is retried (its
 * registration is in flight).
 */
export function createHuurcontractHandler(
  deps: KredietbankTrajectDeps,
): (m: JsMsg) => Promise<Outcome> {
  return async (m) => {
    const event = parse<HuurcontractGetekend>(m);
    const trajectId = await deps.trajecten.ofPerson(event.gemeente, event.data.inburgeraarId);
    if (!trajectId) return 'skipped';
    const disclosure = deps.projector.project(event);
    if (!disclosure) return 'skipped';
    const lease = disclosure.event.data as HuurcontractVoorKredietbank;
    const violations = moneyViolations(lease, 'data');
    if (violations.length > 0) throw new ValidationError('lease cannot be paid', violations);
    const call = huurcontractToWoning(lease, trajectId);
    assertContract(KREDIETBANK_WONING_SCHEMA, call.body, 'the Kredietbank contract (woning)');
    try {
      await withProcessingLog(deps, m, event, disclosure, event.data.inburgeraarId, () =>
        deps.kredietbank
          .changeWoning(call.gemeentecode, call.referentie, call.body, callKey(m, event))
          .catch((err: unknown) => {
            throw registrationInFlight(err);
          }),
      );
    } catch (err) {
      const e = err as { name?: unknown; partnerStatus?: unknown } | null;
      if (e?.name !== 'PartnerRejectedError' || e.partnerStatus !== 409) throw err;
      deps.logger.info(
        { eventId: event.id, gemeente: event.gemeente },
        'lease for an ontzorgtraject that has ended: nothing to change',
      );
      return 'skipped';
    }
    deps.logger.info(
      { eventId: event.id, gemeente: event.gemeente },
      'ontzorgtraject moved to the home of the signed lease',
    );
    return 'delivered';
  };
}
