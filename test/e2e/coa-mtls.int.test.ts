/**
 * The COA service as configured for a partner on mTLS: `services.coa.tls` makes it listen with
 * https and ask for client certificates, `partners.coa.mtls` binds COA to its certificate, and
 * COA's key is stored hashed. A koppeling sent with both reaches the KVS; the key alone, or a
 * certificate of another party, does not get in.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKvsSimulator, type KvsSimulator } from '@ketenhub/simulator-gemeente-kvs';
import { createLogger, generateApiKey, runModules, type RunningModules } from '@ketenhub/kit';
import { makeTestPki, type TestCert, type TestPki } from '../harness/certs.ts';
import {
  TEST_GEMEENTEN,
  eventually,
  startTestNats,
  testConfig,
  type TestNats,
} from '../harness/index.ts';
import { coaModule } from '@ketenhub/adapter-coa';
import { kvsModule } from '@ketenhub/adapter-gemeente-kvs';

const koppeling = JSON.parse(
  readFileSync(
    fileURLToPath(
      new URL(
        '../../adapters/coa/fixtures/golden/koppeling-hoofdpersoon.input.json',
        import.meta.url,
      ),
    ),
    'utf8',
  ),
) as Record<string, unknown>;

let dir: string;
let pki: TestPki;
let nats: TestNats;
let kvs: KvsSimulator;
let coa: RunningModules;
let delivery: RunningModules;
const apiKey = generateApiKey();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ketenhub-coa-mtls-'));
  pki = makeTestPki(dir);
  nats = await startTestNats();
  kvs = await startKvsSimulator({ gemeenten: TEST_GEMEENTEN });
  const config = testConfig(nats.url, kvs, apiKey);
  config.services.coa!.tls = {
    certFile: pki.server.certFile,
    keyFile: pki.server.keyFile,
    caFile: pki.ca.certFile,
  };
  config.partners!.coa!.credential!.mtls = { subject: 'CN=tvs.coa.test,O=COA' };
  const logger = createLogger('test', { level: process.env.LOG_LEVEL ?? 'error' });
  coa = await runModules(config, [coaModule()], { logger });
  delivery = await runModules(config, [kvsModule()], { logger });
});

afterAll(async () => {
  await coa?.stop();
  await delivery?.stop();
  await kvs?.close();
  await nats?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function post(client: TestCert | undefined, key: string | undefined) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = request(
      `${coa.url}/v1/koppelingen`,
      {
        method: 'POST',
        ca: pki.ca.cert,
        ...(client ? { cert: client.cert, key: client.key } : {}),
        headers: {
          'content-type': 'application/json',
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(koppeling));
  });
}

describe('COA over mTLS', () => {
  it('listens with https', () => {
    expect(coa.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
  });

  it('refuses the key without its certificate, and a certificate of another party', async () => {
    expect((await post(undefined, apiKey)).status).toBe(401);
    const stranger = pki.client('stranger', '/O=Elsewhere/CN=someone.test');
    expect((await post(stranger, apiKey)).status).toBe(401);
    expect((await post(stranger, undefined)).status).toBe(403);
  });

  it('delivers a koppeling sent with COA certificate and key', async () => {
    const res = await post(pki.client('coa', '/O=COA/CN=tvs.coa.test'), apiKey);
    expect(res.status).toBe(202);
    const eventId = res.body.eventId as string;
    expect(await eventually(() => kvs.received('gm0797').some((e) => e.id === eventId))).toBe(true);
  });
});
