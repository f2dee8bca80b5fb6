import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { policies } from '@ketenhub/contracts';
import {
  edgeOptionsFromConfig,
  endpointOf,
  loadHubConfig,
  streamLimits,
  type HubConfig,
} from './hub-config.ts';

const base = { streams: {} } as unknown as HubConfig;

describe('streamLimits', () => {
  it('takes retention from the processing register', () => {
    expect(streamLimits(base)).toEqual({
      ketenMaxAgeDays: 93,
      deadLetterMaxAgeDays: 93,
      processingLogMaxAgeDays: 732,
      replicas: 1,
    });
  });
  it('lets the config shorten retention but never lengthen it', () => {
    const config = {
      streams: {
        ketenMaxAgeDays: 30,
        deadLetterMaxAgeDays: 9999,
        processingLogMaxAgeDays: 9999,
        replicas: 3,
      },
    } as unknown as HubConfig;
    expect(streamLimits(config, policies().register)).toEqual({
      ketenMaxAgeDays: 30,
      deadLetterMaxAgeDays: 93,
      processingLogMaxAgeDays: 732,
      replicas: 3,
    });
  });
});

describe('retry and breaker: one definition for every service that calls a partner', () => {
  const shipped = new URL('../../config/ketenhub.yaml', import.meta.url);
  const env = { KETENHUB_PSEUDONYM_KEY: 'k'.repeat(40) };
  const dir = mkdtempSync(join(tmpdir(), 'hub-config-'));

  it.each(['gemeente-kvs', 'duo', 'taalaanbieder', 'kredietbank'])(
    'refuses a bad retry or breaker of %s with its path',
    (service) => {
      const config = parse(readFileSync(shipped, 'utf8')) as {
        services: Record<string, Record<string, unknown>>;
      };
      config.services[service] = {
        ...config.services[service],
        retry: { delaysMs: [], maxAttempts: 0 },
        breaker: { resetTimeoutMs: 5, tripAfter: 3 },
      };
      const file = join(dir, `${service}.yaml`);
      writeFileSync(file, stringify(config));
      let message = '';
      try {
        loadHubConfig(file, env);
      } catch (err) {
        expect((err as Error).name).toBe('ConfigError');
        message = (err as Error).message;
      }
      for (const path of [
        `services.${service}.retry.delaysMs`,
        `services.${service}.retry.maxAttempts`,
        `services.${service}.breaker.resetTimeoutMs`,
        `services.${service}.breaker.tripAfter`,
      ]) {
        expect(message).toContain(`${file}: ${path}:`);
      }
    },
  );

  it('takes the shipped settings', () => {
    expect(() => loadHubConfig(shipped.pathname, env)).not.toThrow();
  });

  it("takes a new module's blocks in the generic shapes, and names what it does not know", () => {
    const config = parse(readFileSync(shipped, 'utf8')) as {
      services: Record<string, Record<string, unknown>>;
      partners: Record<string, Record<string, unknown>>;
    };
    config.services.voorbeeld = {
      port: 4399,
      opsPort: 9399,
      retry: { delaysMs: [1000], maxAttempts: 5 },
    };
    config.partners.voorbeeld = {
      endpoint: { url: 'http://127.0.0.1:4398/v1', timeoutMs: 2000 },
      settings: { anything: 'the module checks' },
    };
    const good = join(dir, 'voorbeeld.yaml');
    writeFileSync(good, stringify(config));
    const loaded = loadHubConfig(good, env);
    expect(loaded.services.voorbeeld).toMatchObject({ port: 4399 });
    expect(endpointOf(loaded, 'voorbeeld')).toEqual({
      url: 'http://127.0.0.1:4398/v1',
      timeoutMs: 2000,
    });

    config.partners.voorbeeld.endpoint = { url: 'not a url', tries: 3 };
    config.services.voorbeeld.endpoint = { url: 'http://127.0.0.1:4398/v1' };
    const bad = join(dir, 'voorbeeld-bad.yaml');
    writeFileSync(bad, stringify(config));
    let message = '';
    try {
      loadHubConfig(bad, env);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`${bad}: partners.voorbeeld.endpoint.url: must be a valid uri`);
    expect(message).toContain(`${bad}: partners.voorbeeld.endpoint.tries: is not allowed here`);
    // The partner's endpoint is not a process setting.
    expect(message).toContain(`${bad}: services.voorbeeld.endpoint: is not allowed here`);
  });
});

describe('edgeOptionsFromConfig: one way every service configures its edge', () => {
  const config = (services: Record<string, unknown>) => ({ services }) as unknown as HubConfig;

  it('takes the body limit and TLS of any service, and the CSV parser only where asked', () => {
    const cfg = config({
      duo: { port: 0, opsPort: 0, bodyLimitBytes: 4096, csvBodyLimitBytes: 8192 },
      coa: { port: 0, opsPort: 0, csvBodyLimitBytes: 8192 },
    });
    expect(edgeOptionsFromConfig(cfg, 'duo')).toEqual({ bodyLimitBytes: 4096 });
    expect(edgeOptionsFromConfig(cfg, 'coa', { csv: true })).toEqual({
      csv: { bodyLimitBytes: 8192 },
    });
    expect(
      edgeOptionsFromConfig(config({ kredietbank: {} }), 'kredietbank', { csv: true }),
    ).toEqual({ csv: {} });
  });

  it('reads the certificates at once, naming the setting of a file it cannot read', () => {
    const cfg = config({
      kredietbank: { tls: { certFile: 'no/such/cert.pem', keyFile: 'no/such/key.pem' } },
    });
    expect(() => edgeOptionsFromConfig(cfg, 'kredietbank')).toThrow(
      /services\.kredietbank\.tls\.certFile: cannot read no\/such\/cert\.pem/,
    );
  });
});
