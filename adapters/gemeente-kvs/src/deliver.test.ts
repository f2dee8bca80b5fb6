import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsMsg } from '@nats-io/jetstream';
import { createLogger, type PartnerClient } from '@ketenhub/kit';
import { createProjector, type ProcessingLog } from '@ketenhub/kit/privacy';
import { KVS_PARTNER, createKvsDelivery } from './deliver.ts';

const golden = JSON.parse(
  readFileSync(
    fileURLToPath(
      new URL('../../coa/fixtures/golden/koppeling-hoofdpersoon.expected.json', import.meta.url),
    ),
    'utf8',
  ),
) as { gemeente: string; data: { gemeenteCode: string } };

function message(subject: string, event: unknown): JsMsg {
  const body = JSON.stringify(event);
  return {
    subject,
    headers: undefined,
    json: () => JSON.parse(body),
    string: () => body,
  } as unknown as JsMsg;
}

function fakes() {
  const posted: { gemeente: string }[] = [];
  const records: string[] = [];
  const client = {
    request: async (req: { data: { gemeente: string } }) => {
      posted.push(req.data);
      return { status: 201, data: {}, headers: {} };
    },
  } as unknown as PartnerClient;
  const processingLog: ProcessingLog = {
    record: async (r) => void records.push(r.status),
  };
  return { posted, records, client, processingLog };
}

const GEMEENTEN = ['gm0797', 'gm0796', 'gm0865', 'gm0363'];

describe('KVS delivery tenant isolation (property)', () => {
  it('a gemeente KVS receives only events of its own gemeente, whatever subject they arrive on', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...GEMEENTEN),
        fc.constantFrom(...GEMEENTEN),
        fc.constantFrom(...GEMEENTEN),
        async (serving, subjectGemeente, eventGemeente) => {
          const f = fakes();
          const deliver = createKvsDelivery({
            gemeente: serving,
            client: f.client,
            projector: createProjector(KVS_PARTNER),
            processingLog: f.processingLog,
            logger: createLogger('test', { level: 'silent' }),
          });
          const event = {
            ...golden,
            gemeente: eventGemeente,
            data: { ...golden.data, gemeenteCode: eventGemeente },
          };
          const outcome = await deliver(
            message(`keten.${subjectGemeente}.inburgeraar.gekoppeld`, event),
          ).catch((e: Error) => e);
          const mine = subjectGemeente === serving && eventGemeente === serving;
          if (mine) {
            expect(outcome).toBe('delivered');
            expect(f.posted.map((p) => p.gemeente)).toEqual([serving]);
            expect(f.records).toEqual(['gestart', 'verstrekt']);
          } else {
            expect(outcome).toMatchObject({ name: 'ValidationError', retryable: false });
            expect(f.posted).toEqual([]);
            expect(f.records).toEqual([]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('discloses nothing when the processing log cannot be written (fail closed)', async () => {
    const f = fakes();
    const deliver = createKvsDelivery({
      gemeente: 'gm0797',
      client: f.client,
      projector: createProjector(KVS_PARTNER),
      processingLog: {
        record: async () => {
          throw Object.assign(new Error('processing log unavailable'), {
            name: 'InfrastructureError',
            retryable: true,
          });
        },
      },
      logger: createLogger('test', { level: 'silent' }),
    });
    await expect(
      deliver(message('keten.gm0797.inburgeraar.gekoppeld', golden)),
    ).rejects.toMatchObject({
      retryable: true,
    });
    expect(f.posted).toEqual([]);
  });
});
