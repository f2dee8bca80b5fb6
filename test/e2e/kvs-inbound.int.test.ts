import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, nameBasedUuid } from '@ketenhub/kit';
import { createPseudonymizer } from '@ketenhub/kit/privacy';
import { startTestChain, testKvsKey, type TestChain } from '../harness/index.ts';

let chain: TestChain;
beforeAll(async () => {
  chain = await startTestChain();
});
afterAll(async () => {
  await chain?.stop();
});

function gevestigd(gemeente: string, n: number) {
  return {
    specversion: '1.0',
    id: nameBasedUuid(`test:gevestigd:${gemeente}:${n}`),
    source: 'urn:nld:oin:00000001000797000000:systeem:suite4sd',
    type: 'nl.inburgering.inburgeraar.gevestigd',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    dataschema: 'https://contracts.ketenhub.nl/events/inburgeraar.gevestigd.schema.json',
    gemeente,
    data: {
      inburgeraarId: createPseudonymizer('k'.repeat(32)).inburgeraarId({
        vnummer: String(n).padStart(10, '0'),
      }),
      gemeenteCode: gemeente,
      vestigingsdatum: '2026-11-02',
    },
  };
}

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await res.json()) as { errors?: { field: string; rule: string }[] };
}

describe('KVS inbound API', () => {
  it('accepts an event of its own gemeente and stores it in JetStream', async () => {
    const before = await chain.streamCount(STREAMS.keten);
    const event = gevestigd('gm0797', 1);
    const res = await chain.kvsPost('gm0797', event);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ eventId: event.id, type: event.type });
    expect(await chain.streamCount(STREAMS.keten)).toBe(before + 1);
  });

  it("refuses with 403 an event for another gemeente than the credential's", async () => {
    const before = await chain.streamCount(STREAMS.keten);
    const res = await chain.kvsPost('gm0796', gevestigd('gm0797', 2));
    expect(res.status).toBe(403);
    expect((await problem(res)).errors).toContainEqual(
      expect.objectContaining({ field: 'gemeente', rule: 'credential-scope' }),
    );
    expect(await chain.streamCount(STREAMS.keten)).toBe(before);
  });

  it('refuses with 403 an event type a KVS may not send (a COA koppeling)', async () => {
    const koppeling = JSON.parse(
      readFileSync(
        fileURLToPath(
          new URL(
            '../../adapters/coa/fixtures/golden/koppeling-hoofdpersoon.expected.json',
            import.meta.url,
          ),
        ),
        'utf8',
      ),
    ) as unknown;
    const res = await chain.kvsPost('gm0797', koppeling);
    expect(res.status).toBe(403);
    expect((await problem(res)).errors).toContainEqual(
      expect.objectContaining({ field: 'type', rule: 'policy levert' }),
    );
  });

  it('refuses with 400 naming the field when the data names another gemeente', async () => {
    const event = gevestigd('gm0797', 4);
    event.data.gemeenteCode = 'gm0796';
    const res = await chain.kvsPost('gm0797', event);
    expect(res.status).toBe(400);
    expect((await problem(res)).errors).toContainEqual(
      expect.objectContaining({ field: 'data.gemeenteCode', rule: 'equals gemeente' }),
    );
  });

  it('refuses with 400 a BSN that fails the elfproef (data.bsn), echoing nothing, storing nothing', async () => {
    const before = await chain.streamCount(STREAMS.keten);
    const event = {
      ...gevestigd('gm0797', 6),
      data: { ...gevestigd('gm0797', 6).data, bsn: '111222334' },
    };
    const res = await chain.kvsPost('gm0797', event);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const text = await res.text();
    expect(text).not.toContain('111222334');
    expect((JSON.parse(text) as { errors: unknown[] }).errors).toContainEqual(
      expect.objectContaining({ field: 'data.bsn', rule: 'elfproef' }),
    );
    expect(await chain.streamCount(STREAMS.keten)).toBe(before);

    const good = {
      ...gevestigd('gm0797', 7),
      data: { ...gevestigd('gm0797', 7).data, bsn: '111222333' },
    };
    expect((await chain.kvsPost('gm0797', good)).status).toBe(202);
  });

  it('answers 415 to text/csv: this API takes no CSV', async () => {
    const res = await fetch(`${chain.delivery.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: 'Bearer ' + testKvsKey('gm0797') },
      body: 'a;b\n1;2\n',
    });
    expect(res.status).toBe(415);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('refuses a COA key and a missing key', async () => {
    const res = await fetch(`${chain.delivery.url}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents+json',
        authorization: `Bearer ${chain.coaApiKey}`,
      },
      body: JSON.stringify(gevestigd('gm0797', 5)),
    });
    expect(res.status).toBe(401);
    const anon = await fetch(`${chain.delivery.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(gevestigd('gm0797', 5)),
    });
    expect(anon.status).toBe(401);
  });
});
