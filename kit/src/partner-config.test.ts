import { describe, expect, it } from 'vitest';
import { hashApiKey } from './api-key-hash.ts';
import { credentialsOf, organisationsOf, organisationsWith, type HubConfig } from './hub-config.ts';
import { partnerSettings, settingsOf } from './module.ts';

const KEY = 'a-partner-key-0123456789abcdef-0123456789';

function config(partners: Record<string, unknown>, extra: Partial<HubConfig> = {}): HubConfig {
  return {
    hub: { oin: '00000001234567890000', pseudonymKey: 'k'.repeat(32) },
    nats: { url: 'nats://127.0.0.1:4222' },
    gemeenten: [
      { code: 'gm0797', naam: 'Heusden' },
      { code: 'gm0796', naam: "'s-Hertogenbosch" },
    ],
    partners,
    services: {},
    ...extra,
  } as HubConfig;
}

describe('organisationsOf: every partner in one shape', () => {
  it('takes a partner that is one organisation as one, with the partner id', () => {
    const c = config({ duo: { endpoint: { url: 'https://duo.example/v1' } } });
    expect(organisationsOf(c, 'duo')).toEqual([
      { id: 'duo', endpoint: { url: 'https://duo.example/v1' }, where: 'partners.duo' },
    ]);
    expect(organisationsOf(c, 'kredietbank')).toEqual([]);
  });

  it('takes each of several organisations with its own path for errors', () => {
    const c = config({
      taalaanbieder: {
        organisations: [
          { id: 'a', naam: 'A', endpoint: { url: 'https://a.example' } },
          { id: 'b', gemeenten: ['gm0796'], endpoint: { url: 'https://b.example' } },
        ],
      },
    });
    expect(organisationsOf(c, 'taalaanbieder').map((o) => [o.id, o.where, o.gemeenten])).toEqual([
      ['a', 'partners.taalaanbieder.organisations[0]', undefined],
      ['b', 'partners.taalaanbieder.organisations[1]', ['gm0796']],
    ]);
  });

  it('refuses a block that mixes the shapes, an id named twice and a gemeente not served', () => {
    const org = { id: 'a', endpoint: { url: 'https://a.example' } };
    expect(() =>
      organisationsOf(config({ x: { organisations: [org], endpoint: org.endpoint } }), 'x'),
    ).toThrow(
      /partners\.x\.endpoint: a partner with organisations has its endpoint per organisation/,
    );
    expect(() => organisationsOf(config({ x: { organisations: [org, org] } }), 'x')).toThrow(
      /partners\.x\.organisations\[1\]\.id: a is named twice/,
    );
    expect(() =>
      organisationsOf(config({ x: { organisations: [{ ...org, gemeenten: ['gm0363'] }] } }), 'x'),
    ).toThrow(
      /partners\.x\.organisations\[0\]\.gemeenten: gm0363 is not a gemeente this hub serves/,
    );
    expect(() =>
      organisationsOf(config({ x: { organisations: [{ ...org, gemeenten: [] }] } }), 'x'),
    ).toThrow(/partners\.x\.organisations\[0\]\.gemeenten: empty/);
  });
});

describe('organisationsWith: what a module requires of its organisations', () => {
  it('names the organisation and the field that is missing, and requires one at all', () => {
    const c = config({
      x: {
        organisations: [
          { id: 'a', gemeenten: ['gm0797'], endpoint: { url: 'https://a.example' } },
          { id: 'b', endpoint: { url: 'https://b.example' } },
          { id: 'c', gemeenten: ['gm0796'] },
        ],
      },
    });
    expect(organisationsWith(c, 'x', { endpoint: false }).map((o) => o.id)).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(() => organisationsWith(c, 'x', { gemeenten: true })).toThrow(
      /partners\.x\.organisations\[1\]\.gemeenten: required \(the gemeenten it is contracted by\)/,
    );
    expect(() => organisationsWith(c, 'x', { endpoint: true, what: 'where it gets mail' })).toThrow(
      /partners\.x\.organisations\[2\]\.endpoint: required \(where it gets mail\)/,
    );
    expect(() => organisationsWith(config({}), 'x', {})).toThrow(
      /partners\.x: the x module needs at least one organisation/,
    );
  });
});

describe('credentialsOf', () => {
  it("binds each organisation's credential to its id and gemeenten, and leaves out empty ones", () => {
    const c = config({
      'gemeente-kvs': {
        organisations: [
          { id: 'kvs-gm0797', gemeenten: ['gm0797'], credential: { apiKeyHash: hashApiKey(KEY) } },
          { id: 'kvs-gm0796', gemeenten: ['gm0796'], credential: { apiKeyHash: '', apiKey: '' } },
        ],
      },
    });
    expect(credentialsOf(c, 'gemeente-kvs')).toEqual([
      {
        id: 'kvs-gm0797',
        kind: 'gemeente-kvs',
        apiKeyHash: hashApiKey(KEY),
        gemeenten: ['gm0797'],
      },
    ]);
  });

  it('names the organisation of a credential it refuses', () => {
    const c = config(
      { taalaanbieder: { organisations: [{ id: 'a', credential: { apiKey: KEY } }] } },
      { hub: { oin: '00000001234567890000', pseudonymKey: 'k'.repeat(32), production: true } },
    );
    expect(() => credentialsOf(c, 'taalaanbieder')).toThrow(
      /partners\.taalaanbieder\.organisations\[0\]\.credential\.apiKey: a plaintext key is not accepted in production/,
    );
  });
});

describe("a module's own settings and its service block", () => {
  const module = {
    id: 'duo',
    service: 'duo',
    settingsSchema: {
      type: 'object',
      required: ['oin'],
      properties: { oin: { type: 'string', pattern: '^[0-9]{20}$' } },
      additionalProperties: false,
    },
  };

  it("checks the settings against the module's schema, naming the field and the rule", () => {
    expect(
      partnerSettings(config({ duo: { settings: { oin: '00000001003214345000' } } }), module),
    ).toEqual({ oin: '00000001003214345000' });
    let err: (Error & { field?: string; rule?: string }) | undefined;
    try {
      partnerSettings(config({ duo: { settings: { oin: 'DUO', extra: 1 } } }), module);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.name).toBe('ConfigError');
    expect(err?.message).toMatch(/partners\.duo\.settings\.oin: must match \^\[0-9\]\{20\}\$/);
    expect(err?.message).toMatch(/partners\.duo\.settings\.extra: is not allowed here/);
    expect(() => partnerSettings(config({}), module)).toThrow(
      /partners\.duo\.settings\.oin: is required/,
    );
  });

  it('lays the service block over serviceDefaults, and requires the block', () => {
    const retry = { delaysMs: [1000] as [number], maxAttempts: 5 };
    const breaker = { resetTimeoutMs: 5000 };
    const c = config(
      {},
      {
        serviceDefaults: { retry, breaker },
        services: { duo: { opsPort: 1, breaker: { resetTimeoutMs: 100 } } },
      },
    );
    expect(settingsOf(c, module)).toEqual({ retry, breaker: { resetTimeoutMs: 100 }, opsPort: 1 });
    expect(() => settingsOf(config({}), module)).toThrow(
      /services\.duo: required by the duo module/,
    );
  });
});
