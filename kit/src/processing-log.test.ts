import { describe, expect, it } from 'vitest';
import { InfrastructureError, PartnerRejectedError, PartnerUnavailableError } from './errors.ts';
import { disclose, type ProcessingLog, type ProcessingRecord } from './processing-log.ts';

const RECORD = {
  traceId: '0'.repeat(32),
  spanId: '1'.repeat(16),
  activiteit: 'test-activiteit',
  ontvanger: { partner: 'test', endpoint: 'e' },
  betrokkene: `ih-${'2'.repeat(32)}`,
  categorieen: ['pseudoniem'],
  gemeente: 'gm0797',
  eventId: 'evt-1',
  eventType: 'nl.inburgering.pip.vastgesteld',
};

/** A log that keeps what it is given, in order, and can be told to fail on a status. */
function log(failOn: ProcessingRecord['status'][] = []) {
  const steps: string[] = [];
  const warnings: string[] = [];
  const processingLog: ProcessingLog = {
    async record(rec) {
      if (failOn.includes(rec.status)) throw new InfrastructureError('processing log unavailable');
      steps.push(rec.status);
    },
  };
  const logger = { warn: (_o: object, msg: string) => void warnings.push(msg) };
  return { deps: { processingLog, logger }, steps, warnings };
}

describe('disclose: the processing log around every disclosure', () => {
  it('records gestart before the call and verstrekt after it', async () => {
    const { deps, steps } = log();
    const result = await disclose(deps, RECORD, async () => {
      steps.push('call');
      return 42;
    });
    expect(result).toBe(42);
    expect(steps).toEqual(['gestart', 'call', 'verstrekt']);
  });

  it('fails closed: without a gestart record the call is not made', async () => {
    const { deps, steps } = log(['gestart']);
    let called = false;
    const err = await disclose(deps, RECORD, async () => {
      called = true;
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'InfrastructureError', retryable: true });
    expect(called).toBe(false);
    expect(steps).toEqual([]);
  });

  it.each([
    ['mislukt', new PartnerUnavailableError('down')],
    ['geweigerd', new PartnerRejectedError('refused', 422)],
  ])('records %s for a failed call and rethrows the failure', async (status, failure) => {
    const { deps, steps } = log();
    await expect(
      disclose(deps, RECORD, async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(steps).toEqual(['gestart', status]);
  });

  it('keeps the result when only the outcome record is lost (gestart reads as possibly disclosed)', async () => {
    const { deps, steps, warnings } = log(['verstrekt']);
    expect(await disclose(deps, RECORD, async () => 'ok')).toBe('ok');
    expect(steps).toEqual(['gestart']);
    expect(warnings).toEqual(['outcome record not written']);
  });
});
