import { describe, expect, it } from 'vitest';
import { ConfigError, type HubConfig } from '@ketenhub/kit';
import { vestigingFor } from './aanvraag.ts';
import { createBegeleidingPseudonymizer } from './begeleiding.ts';
import { vluchtelingenwerkModule } from './module.ts';
import { DEFAULT_PVT_BEVESTIGING, pvtBevestigingFor } from './settings.ts';

const OFFICES = [
  { id: 'vwn-den-bosch', gemeenten: ['gm0796', 'gm0865'] },
  { id: 'vwn-langstraat', gemeenten: ['gm0797'] },
];

function config(vluchtelingenwerk: unknown): HubConfig {
  return {
    hub: { oin: '00000001234567890000', pseudonymKey: 'k'.repeat(64) },
    nats: { url: 'nats://127.0.0.1:4222' },
    gemeenten: ['gm0797', 'gm0796', 'gm0865'].map((code) => ({ code, naam: code })),
    partners: { vluchtelingenwerk },
    services: { vluchtelingenwerk: { port: 0, opsPort: 0 } },
  } as unknown as HubConfig;
}

const office = (id: string, gemeenten: string[]) => ({
  id,
  naam: id,
  gemeenten,
  endpoint: { url: `http://${id}.example` },
  credential: { apiKey: `${id}-key-0123456789abcdef` },
});

describe('the office an aanvraag goes to', () => {
  it('is the office contracted for the gemeente; without one it is refused naming field and rule', () => {
    expect(vestigingFor(OFFICES, 'gm0865')).toEqual({ vestiging: 'vwn-den-bosch' });
    expect(vestigingFor(OFFICES, 'gm0797')).toEqual({ vestiging: 'vwn-langstraat' });
    expect(vestigingFor(OFFICES, 'gm0363')).toEqual({
      refused: expect.objectContaining({
        field: 'gemeente',
        rule: 'a VluchtelingenWerk office contracted for the gemeente',
      }),
    });
  });

  it('gives each office its own begeleiding pseudonym, stable for the same aanvraag', () => {
    const p = createBegeleidingPseudonymizer('k'.repeat(64));
    const a = p.begeleidingId('ih-1', 'MB-1', 'vwn-den-bosch');
    expect(a).toMatch(/^vb-[0-9a-f]{32}$/);
    expect(p.begeleidingId('ih-1', 'MB-1', 'vwn-den-bosch')).toBe(a);
    expect(p.begeleidingId('ih-1', 'MB-1', 'vwn-langstraat')).not.toBe(a);
    expect(p.begeleidingId('ih-1', 'MB-2', 'vwn-den-bosch')).not.toBe(a);
  });
});

describe('the configuration the module accepts', () => {
  const check = (c: HubConfig) => vluchtelingenwerkModule().check!(c, undefined as never);

  it('takes one office per gemeente, each with its gemeenten and an endpoint', () => {
    expect(() =>
      check(config({ organisations: [office('a', ['gm0796']), office('b', ['gm0797'])] })),
    ).not.toThrow();
  });

  it('refuses a gemeente served by two offices, and an office without gemeenten', () => {
    expect(() =>
      check(config({ organisations: [office('a', ['gm0796']), office('b', ['gm0796'])] })),
    ).toThrow(expect.objectContaining({ rule: 'one office per gemeente' }));
    const { gemeenten: _, ...none } = office('a', []);
    expect(() => check(config({ organisations: [none] }))).toThrow(ConfigError);
  });

  it('refuses a pvtBevestiging rule for a gemeente the hub does not serve', () => {
    expect(() =>
      check(
        config({
          organisations: [office('a', ['gm0796'])],
          settings: { pvtBevestiging: { gemeenten: { gm0363: 'kvs' } } },
        }),
      ),
    ).toThrow(
      expect.objectContaining({
        field: 'partners.vluchtelingenwerk.settings.pvtBevestiging.gemeenten.gm0363',
      }),
    );
  });
});

describe("a gemeente's rule for the signing", () => {
  it('is its own, else the standaard, else kvs (the gemeente reports to DUO)', () => {
    const settings = {
      pvtBevestiging: { standaard: 'direct' as const, gemeenten: { gm0796: 'kvs' as const } },
    };
    expect(pvtBevestigingFor(settings, 'gm0796')).toBe('kvs');
    expect(pvtBevestigingFor(settings, 'gm0797')).toBe('direct');
    expect(pvtBevestigingFor({}, 'gm0797')).toBe(DEFAULT_PVT_BEVESTIGING);
    expect(DEFAULT_PVT_BEVESTIGING).toBe('kvs');
  });
});
