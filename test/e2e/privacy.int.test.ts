import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policies } from '@ketenhub/contracts';
import {
  STREAMS,
  childSpan,
  connectNats,
  openUrenLedger,
  formatTraceparent,
  parseTraceparent,
  streamConfigs,
} from '@ketenhub/kit';
import { createPseudonymizer } from '@ketenhub/kit/privacy';
import { disclosuresFor } from '@ketenhub/kit/operations';
import { eventually, startTestChain, type TestChain } from '../harness/index.ts';

const run = promisify(execFile);
const golden = (name: string) =>
  JSON.parse(
    readFileSync(
      fileURLToPath(new URL(`../../adapters/coa/fixtures/golden/${name}`, import.meta.url)),
      'utf8',
    ),
  ) as Record<string, any>;

let chain: TestChain;
beforeAll(async () => {
  chain = await startTestChain();
});
afterAll(async () => {
  await chain?.stop();
});

async function post(path: string, body: unknown, traceparent?: string) {
  const res = await fetch(`${chain.coa.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${chain.coaApiKey}`,
      ...(traceparent ? { traceparent } : {}),
    },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { eventId: string }).eventId;
}

describe('processing log, trace context and right of access', () => {
  const koppeling: Record<string, any> = {
    ...golden('koppeling-hoofdpersoon.input.json'),
    koppelingId: 'KOP-PRIV-1',
  };
  const overdracht = {
    ...golden('overdracht-medisch-met-toestemming.input.json'),
    overdrachtId: 'OVD-PRIV-1',
    koppelingId: 'KOP-PRIV-1',
  };

  it('carries the trace from the COA call to the KVS and logs every disclosure, listed by inzage', async () => {
    const inbound = childSpan();
    const koppelingId = await post('/v1/koppelingen', koppeling, formatTraceparent(inbound));
    const overdrachtId = await post('/v1/overdrachten', overdracht);
    expect(
      await eventually(() =>
        [koppelingId, overdrachtId].every((id) =>
          chain.kvs.received('gm0797').some((e) => e.id === id),
        ),
      ),
    ).toBe(true);

    const delivered = chain.kvs.received('gm0797').find((e) => e.id === koppelingId)!;
    const deliveredTrace = parseTraceparent(
      (delivered.event as { traceparent?: string }).traceparent,
    );
    expect(deliveredTrace?.traceId).toBe(inbound.traceId);

    const nc = await connectNats(chain.nats.url, 'inzage-test');
    const betrokkene = createPseudonymizer(chain.config.hub.pseudonymKey).inburgeraarId({
      bsn: koppeling.persoon.bsn,
      vnummer: '',
    });
    const list = await disclosuresFor(jetstream(nc), await jetstreamManager(nc), policies(), {
      betrokkenen: [betrokkene],
    });
    await nc.drain();
    expect(list.map((d) => [d.eventId, d.status, d.activiteit.id, d.ontvanger.endpoint])).toEqual([
      [koppelingId, 'verstrekt', 'va-001', 'gm0797'],
      [overdrachtId, 'verstrekt', 'va-002', 'gm0797'],
    ]);
    expect(list[0]!.traceId).toBe(inbound.traceId);
    expect(list[0]!.categorieen.map((c) => c.id)).toContain('identificatie');
    expect(list[1]!.categorieen.map((c) => c.id)).toContain('gezondheid');
    expect(list[1]!.activiteit.grondslag.avg).toMatch(/art\. 9/);

    // Hours the hub keeps to tell DUO about the person show too (here written straight into
    // the ledger; test/e2e/duo.int.test.ts has them come from a school and the KVS).
    const lnc = await connectNats(chain.nats.url, 'privacy-test-ledger');
    const person = createPseudonymizer(chain.config.hub.pseudonymKey).inburgeraarId({
      bsn: koppeling.persoon.bsn,
      vnummer: '',
    });
    await (
      await openUrenLedger(lnc)
    ).report({
      gemeente: 'gm0797',
      inburgeraarId: person,
      soort: 'bredeintake-taalles-knm',
      bron: 'kvs',
      uren: 14,
      tijd: '2026-11-01T10:00:00Z',
      eventId: 'privacy-test',
    });
    await lnc.drain();

    // The same through the command a privacy officer runs.
    const { stdout } = await run(
      process.execPath,
      [
        fileURLToPath(new URL('../../scripts/inzage.ts', import.meta.url)),
        '--bsn',
        koppeling.persoon.bsn,
        '--json',
        '--nats',
        chain.nats.url,
      ],
      { env: { ...process.env, KETENHUB_PSEUDONYM_KEY: chain.config.hub.pseudonymKey } },
    );
    const cli = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      count: number;
      disclosures: { eventId: string }[];
      uren: { gemeente: string; soort: string; totaal: number }[];
    };
    expect(cli.count).toBe(2);
    expect(cli.uren).toEqual([
      expect.objectContaining({ gemeente: 'gm0797', soort: 'bredeintake-taalles-knm', totaal: 14 }),
    ]);
    expect(cli.disclosures.map((d) => d.eventId)).toEqual([koppelingId, overdrachtId]);
  });

  it('refuses an inzage for a BSN that fails the elfproef, naming the option and the rule', async () => {
    const err = await run(process.execPath, [
      fileURLToPath(new URL('../../scripts/inzage.ts', import.meta.url)),
      '--bsn',
      '111222334',
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('--bsn fails the elfproef');
  });

  it('fails closed: without a processing log nothing is disclosed, and it is delivered once the log is back', async () => {
    const nc = await connectNats(chain.nats.url, 'fail-closed-test');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(STREAMS.processingLog);
    const eventId = await post('/v1/koppelingen', { ...koppeling, koppelingId: 'KOP-PRIV-2' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(chain.kvs.received('gm0797').some((e) => e.id === eventId)).toBe(false);

    await jsm.streams.add(
      streamConfigs().find((c) => c.name === STREAMS.processingLog) as { name: string },
    );
    expect(
      await eventually(() => chain.kvs.received('gm0797').some((e) => e.id === eventId), 20_000),
    ).toBe(true);
    await nc.drain();
  });
});
