import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, requireEnv } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'kit-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

interface Config {
  service: string;
  port: number;
  partners: { id: string; apiKey: string; url: string }[];
}

const schema = {
  type: 'object',
  required: ['service', 'port', 'partners'],
  additionalProperties: false,
  properties: {
    service: { type: 'string' },
    port: { type: 'integer', minimum: 0 },
    partners: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'apiKey', 'url'],
        additionalProperties: false,
        properties: {
          id: { type: 'string' },
          apiKey: { type: 'string', minLength: 1 },
          url: { type: 'string', format: 'uri' },
        },
      },
    },
  },
};

const valid = `
service: coa-in
port: 8080
partners:
  - id: coa
    apiKey: \${COA_API_KEY}
    url: \${COA_URL:-http://localhost:9001}/tvs
`;

describe('loadConfig', () => {
  it('loads a valid file, taking secrets from the environment', () => {
    const cfg = loadConfig<Config>(file('valid.yaml', valid), schema, {
      env: { COA_API_KEY: 's3cret', COA_URL: 'https://coa.example' },
    });
    expect(cfg).toEqual({
      service: 'coa-in',
      port: 8080,
      partners: [{ id: 'coa', apiKey: 's3cret', url: 'https://coa.example/tvs' }],
    });
  });

  it('uses the default when the variable is unset or empty', () => {
    const path = file('default.yaml', valid);
    const a = loadConfig<Config>(path, schema, { env: { COA_API_KEY: 'k' } });
    const b = loadConfig<Config>(path, schema, { env: { COA_API_KEY: 'k', COA_URL: '' } });
    expect(a.partners[0]?.url).toBe('http://localhost:9001/tvs');
    expect(b.partners[0]?.url).toBe('http://localhost:9001/tvs');
  });

  it('names the config path and the variable when one is missing', () => {
    const path = file('missing.yaml', valid);
    expect(() => loadConfig(path, schema, { env: {} })).toThrow(
      `${path}: partners[0].apiKey: environment variable COA_API_KEY is not set`,
    );
    try {
      loadConfig(path, schema, { env: {} });
    } catch (err) {
      expect(err).toMatchObject({ name: 'ConfigError', retryable: false });
    }
  });

  it('lists every schema violation with its path', () => {
    const path = file(
      'bad.yaml',
      `service: coa-in\nport: eighty\npartners:\n  - id: coa\n    apiKey: k\n    url: not a uri\n    extra: 1\n`,
    );
    let message = '';
    try {
      loadConfig(path, schema, { env: {} });
    } catch (err) {
      expect((err as Error).name).toBe('ConfigError');
      message = (err as Error).message;
    }
    expect(message).toContain(`${path}: port: must be integer`);
    expect(message).toContain(`${path}: partners[0].url: must be a valid uri`);
    expect(message).toContain(`${path}: partners[0].extra: is not allowed here`);
  });

  it('keeps $${ as a literal', () => {
    const path = file('literal.yaml', 'service: "price $${X}"\nport: 1\npartners: []\n');
    expect(loadConfig<Config>(path, schema, { env: {} }).service).toBe('price ${X}');
  });

  it('reports an unreadable file and invalid YAML as ConfigError', () => {
    expect(() => loadConfig(join(dir, 'nope.yaml'), schema)).toThrow(/cannot read config file/);
    expect(() => loadConfig(file('broken.yaml', 'a: [1,\n'), schema)).toThrow(/not valid YAML/);
  });
});

describe('requireEnv', () => {
  it('returns a set variable and throws ConfigError naming a missing one', () => {
    expect(requireEnv('A', { A: 'x' })).toBe('x');
    expect(() => requireEnv('NATS_URL', {})).toThrow('environment variable NATS_URL is not set');
    expect(() => requireEnv('NATS_URL', { NATS_URL: '' })).toThrow(/NATS_URL/);
  });
});
