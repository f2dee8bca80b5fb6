import { describe, expect, it } from 'vitest';
import type { PartnerCredentialConfig } from '@ketenhub/contracts/generated';
import { credentialFromConfig, edgeTlsFromConfig, type HubConfig } from './hub-config.ts';

const HASH = `sha256:${'A'.repeat(43)}`;

function config(credential: PartnerCredentialConfig, production = false): HubConfig {
  return { hub: { production }, partners: { coa: { credential } } } as unknown as HubConfig;
}

describe('credentialFromConfig', () => {
  it('takes the hash, the certificate binding and the gemeenten; empty values count as none', () => {
    expect(
      credentialFromConfig(
        config({
          apiKeyHash: HASH,
          apiKey: '',
          mtls: { subject: 'CN=tvs.coa.nl' },
          gemeenten: ['gm0797'],
        }),
        'coa',
      ),
    ).toEqual({
      id: 'coa',
      kind: 'coa',
      apiKeyHash: HASH,
      mtls: { subject: 'CN=tvs.coa.nl' },
      gemeenten: ['gm0797'],
    });
  });

  it('accepts a plaintext key in development only', () => {
    const key = 'dev-key-0123456789abcdef';
    expect(credentialFromConfig(config({ apiKey: key }), 'coa').apiKey).toBe(key);
    expect(() => credentialFromConfig(config({ apiKey: key }, true), 'coa')).toThrow(
      /partners.coa.credential.apiKey: a plaintext key is not accepted in production/,
    );
    expect(() => credentialFromConfig(config({ apiKeyHash: HASH }, true), 'coa')).not.toThrow();
  });

  it('refuses a scrypt hash of an earlier version at start, naming the field and the remedy', () => {
    const scrypt = `scrypt:16384:8:1:${'A'.repeat(22)}:${'B'.repeat(43)}`;
    expect(() => credentialFromConfig(config({ apiKeyHash: scrypt }), 'coa')).toThrow(
      /partners.coa.credential.apiKeyHash: a scrypt hash is no longer accepted; run `npm run -s hash-key`/,
    );
  });

  it('refuses a partner without any credential', () => {
    expect(() => credentialFromConfig(config({ apiKeyHash: '', apiKey: '' }), 'coa')).toThrow(
      /partners.coa.credential: no credential/,
    );
  });
});

describe('edgeTlsFromConfig', () => {
  it('is absent without a tls block and names the path of a file it cannot read', () => {
    expect(edgeTlsFromConfig(undefined, 'services.coa.tls')).toBeUndefined();
    expect(() =>
      edgeTlsFromConfig(
        { certFile: '/nonexistent/coa.crt', keyFile: '/nonexistent/coa.key' },
        'services.coa.tls',
      ),
    ).toThrow(/services.coa.tls.certFile: cannot read \/nonexistent\/coa.crt/);
  });
});
