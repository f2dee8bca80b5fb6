import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_CONFIG, loadHubConfig, type PartnerModule } from '@ketenhub/kit';
import { planChain, secretVariables } from './chain.ts';
import { MODULES } from './modules.ts';

/** The shipped configuration, as written and as loaded. */
function shipped() {
  const raw = parse(readFileSync(DEFAULT_CONFIG, 'utf8')) as Record<string, unknown>;
  const config = loadHubConfig(DEFAULT_CONFIG, { KETENHUB_PSEUDONYM_KEY: 'x'.repeat(32) });
  return { raw, config };
}

/** Ports handed out in order from 50000: the test checks which the plan takes, not that they are free. */
function ports() {
  let next = 50_000;
  return async () => next++;
}

/** The shipped modules (a clone may have registered a generated one besides). */
const shippedModules = () =>
  MODULES.map((m) => m()).filter((m) =>
    ['coa', 'gemeente-kvs', 'duo', 'kredietbank', 'taalaanbieder', 'admin'].includes(m.id),
  );

/** A module as new:partner writes one: outbound, no blocks in the configuration. */
const generated = (): PartnerModule => ({
  id: 'voorbeeld-test',
  kind: 'outbound',
  service: 'voorbeeld-test',
  description: 'a generated module',
  stores: [],
  consumers: () => [{ durable: 'voorbeeld-test-pips', filter: 'keten.*.pip.vastgesteld' }],
  simulator: { main: 'simulators/voorbeeld-test/src/main.ts' },
  start: async () => ({}),
});

describe('npm start: every module the same way', () => {
  it("runs the shipped partners' simulators on their configured ports, one per school", async () => {
    const { raw, config } = shipped();
    const plan = await planChain(config, raw, shippedModules(), ports());
    expect(plan.filledIn).toEqual([]);
    expect(plan.services.map((s) => [s.service, s.opsPort])).toEqual([
      ['coa', 9301],
      ['gemeente-kvs', 9302],
      ['duo', 9303],
      ['kredietbank', 9305],
      ['taalaanbieder', 9306],
      ['admin', 9309],
    ]);
    const sims = Object.fromEntries(
      Object.entries(plan.simulators).map(([id, list]) => [
        id,
        list.map((s) => [s.name, s.port, s.organisation ?? null, s.plays]),
      ]),
    );
    expect(sims).toEqual({
      // One KVS simulator plays every gemeente's KVS.
      'gemeente-kvs': [
        ['gemeente-kvs-simulator', 4310, null, ['kvs-gm0797', 'kvs-gm0796', 'kvs-gm0865']],
      ],
      duo: [['duo-simulator', 4320, null, ['duo']]],
      kredietbank: [['kredietbank-simulator', 4340, null, ['kredietbank']]],
      taalaanbieder: [
        [
          'taalaanbieder-simulator-taalschool-noord',
          4331,
          'taalschool-noord',
          ['taalschool-noord'],
        ],
        ['taalaanbieder-simulator-roc-meierij', 4332, 'roc-meierij', ['roc-meierij']],
      ],
    });
    expect(plan.devConfig).toEqual(raw);
  });

  it('gives a module without blocks free ports and its endpoint at its simulator', async () => {
    const { raw, config } = shipped();
    const plan = await planChain(config, raw, [...shippedModules(), generated()], ports());
    expect(plan.simulators['voorbeeld-test']).toEqual([
      {
        name: 'voorbeeld-test-simulator',
        main: 'simulators/voorbeeld-test/src/main.ts',
        port: 50_000,
        plays: [],
      },
    ]);
    expect(plan.filledIn).toEqual([
      'partners.voorbeeld-test.endpoint',
      'services.voorbeeld-test.opsPort',
    ]);
    const dev = plan.devConfig as {
      partners: Record<string, unknown>;
      services: Record<string, unknown>;
    };
    expect(dev.partners['voorbeeld-test']).toEqual({
      endpoint: { url: 'http://127.0.0.1:50000', timeoutMs: 5_000 },
    });
    // No partner API: an ops port for its health check only.
    expect(dev.services['voorbeeld-test']).toEqual({ opsPort: 50_001 });
    expect(plan.services.at(-1)).toMatchObject({ service: 'voorbeeld-test', opsPort: 50_001 });
    // The configuration as written is left alone.
    expect((raw.partners as Record<string, unknown>)['voorbeeld-test']).toBeUndefined();
  });

  it('refuses a configured endpoint whose simulator has no port of its own', async () => {
    const { raw, config } = shipped();
    delete (config.simulators as Record<string, unknown>).duo;
    await expect(planChain(config, raw, shippedModules(), ports())).rejects.toThrow(
      'config: partners.duo has an endpoint but simulators.duo.port is not set',
    );
  });

  it('finds every secret by the variable the configuration names for it', () => {
    const { raw } = shipped();
    const vars = secretVariables(raw);
    expect(vars.partners.coa).toEqual({
      coa: { apiKey: 'KETENHUB_COA_API_KEY', apiKeyHash: 'KETENHUB_COA_API_KEY_HASH' },
    });
    expect(vars.partners.kredietbank?.kredietbank).toEqual({
      apiKey: 'KETENHUB_KREDIETBANK_API_KEY',
      apiKeyHash: 'KETENHUB_KREDIETBANK_API_KEY_HASH',
      token: 'KETENHUB_KREDIETBANK_TOKEN',
    });
    expect(Object.keys(vars.partners.taalaanbieder ?? {})).toEqual([
      'taalschool-noord',
      'roc-meierij',
    ]);
    expect(vars.partners['gemeente-kvs']?.['kvs-gm0797']?.token).toBe('KETENHUB_KVS_TOKEN_GM0797');
    expect(vars.admins.beheer?.apiKey).toBe('KETENHUB_ADMIN_API_KEY');
  });
});
