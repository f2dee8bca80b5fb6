import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSimulatorHub } from './hub.ts';

const dir = mkdtempSync(join(tmpdir(), 'sim-hub-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A hub configuration in the shape config/ketenhub.yaml has, secrets as ${VAR}. */
function configFile(partners: Record<string, unknown>): string {
  const file = join(dir, `hub-${Math.random().toString(36).slice(2)}.yaml`);
  // JSON is YAML: the loader reads it as the shipped file.
  writeFileSync(
    file,
    JSON.stringify({
      hub: { oin: '00000001234567890000', pseudonymKey: '${KETENHUB_PSEUDONYM_KEY}' },
      nats: { url: 'nats://127.0.0.1:4222' },
      gemeenten: [
        { code: 'gm0797', naam: 'Heusden', oin: '00000001000797000000' },
        { code: 'gm0796', naam: "'s-Hertogenbosch", oin: '00000001000796000000' },
      ],
      partners,
      services: { school: { host: '0.0.0.0', port: 4306 }, bank: { port: 4305 } },
    }),
  );
  return file;
}

const ENV = { KETENHUB_PSEUDONYM_KEY: 'k'.repeat(32), SCHOOL_A_KEY: 'sleutel-a-0123456789' };
const SCHOOLS = {
  school: {
    organisations: [
      {
        id: 'school-a',
        endpoint: { url: 'http://127.0.0.1:4331', token: 'token-a' },
        credential: { apiKey: '${SCHOOL_A_KEY:-}' },
      },
      { id: 'school-b', endpoint: { url: 'http://127.0.0.1:4332', token: '${SCHOOL_B_TOKEN:-}' } },
    ],
  },
  bank: {
    endpoint: { url: 'http://127.0.0.1:4340/v1', token: 'bank-token' },
    credential: { apiKey: 'bank-key-0123456789' },
    settings: { oin: '00000001003214345000' },
  },
};

const never = (message: string): never => {
  throw new Error(`fail: ${message}`);
};

describe('createSimulatorHub', () => {
  it('reads nothing without KETENHUB_CONFIG', () => {
    const hub = createSimulatorHub({
      partner: 'school',
      organisation: 'school-a',
      env: {},
      fail: never,
    });
    expect(hub.config()).toBeUndefined();
    expect(hub.organisation()).toBeUndefined();
    expect([hub.token(), hub.apiKey(), hub.serviceUrl(), hub.settings()]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("gives the organisation's token and key, and the hub service to call back", () => {
    const env = { ...ENV, KETENHUB_CONFIG: configFile(SCHOOLS) };
    const a = createSimulatorHub({ partner: 'school', organisation: 'school-a', env, fail: never });
    expect(a.organisation()?.id).toBe('school-a');
    expect(a.token()).toBe('token-a');
    expect(a.apiKey()).toBe('sleutel-a-0123456789');
    // A wildcard bind is called on loopback.
    expect(a.serviceUrl()).toBe('http://127.0.0.1:4306');
    expect(a.serviceUrl('bank')).toBe('http://127.0.0.1:4305');
    expect(a.serviceUrl('nope')).toBeUndefined();
    // An empty variable is no secret.
    const b = createSimulatorHub({ partner: 'school', organisation: 'school-b', env, fail: never });
    expect([b.token(), b.apiKey()]).toEqual([undefined, undefined]);
    // Without --organisation a partner with organisations is none of them; all are there.
    const all = createSimulatorHub({ partner: 'school', env, fail: never });
    expect(all.organisation()).toBeUndefined();
    expect(all.organisations().map((o) => o.id)).toEqual(['school-a', 'school-b']);
  });

  it('takes a partner that is one organisation as the one, with its settings', () => {
    const env = { ...ENV, KETENHUB_CONFIG: configFile(SCHOOLS) };
    const bank = createSimulatorHub({ partner: 'bank', env, fail: never });
    expect(bank.organisation()?.id).toBe('bank');
    expect([bank.token(), bank.apiKey()]).toEqual(['bank-token', 'bank-key-0123456789']);
    expect(bank.settings<{ oin: string }>()?.oin).toBe('00000001003214345000');
    const none = createSimulatorHub({ partner: 'nieuw', env, fail: never });
    expect(none.organisation()).toBeUndefined();
    expect(none.settings()).toEqual({});
  });

  it('fails on an organisation the block does not have, and on a configuration that does not load', () => {
    const env = { ...ENV, KETENHUB_CONFIG: configFile(SCHOOLS) };
    const c = createSimulatorHub({ partner: 'school', organisation: 'school-z', env, fail: never });
    expect(() => c.token()).toThrow(
      /fail: --organisation school-z: not one of partners\.school\.organisations \(school-a, school-b\)/,
    );
    const missing = createSimulatorHub({
      partner: 'school',
      env: { KETENHUB_CONFIG: configFile(SCHOOLS) },
      fail: never,
    });
    expect(() => missing.config()).toThrow(
      /fail: invalid configuration:[\s\S]*KETENHUB_PSEUDONYM_KEY is not set/,
    );
  });
});
