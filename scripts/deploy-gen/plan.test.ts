import { describe, expect, it } from 'vitest';
import { coaModule } from '@ketenhub/adapter-coa';
import { kvsModule } from '@ketenhub/adapter-gemeente-kvs';
import { kredietbankModule } from '@ketenhub/adapter-kredietbank';
import { adminModule } from '../../services/admin/module.ts';
import { DeployPlanError, describeVar, replaceRegion, servicePlans } from './plan.ts';

const modules = [coaModule(), kvsModule(), kredietbankModule(), adminModule()];
const opts = { file: 'test.yaml', shared: ['KETENHUB_PSEUDONYM_KEY', 'NATS_USER'] };

const HEAD = `
hub:
  pseudonymKey: \${KETENHUB_PSEUDONYM_KEY}
nats:
  user: \${NATS_USER:-}
`;
const SERVICES = `
services:
  coa: { host: 0.0.0.0, port: 4301, opsPort: 9301 }
  gemeente-kvs: { host: 0.0.0.0, opsPort: 9302 }
  kredietbank: { host: 0.0.0.0, port: 4305, opsPort: 9305 }
  admin: { host: 0.0.0.0, port: 4309, opsPort: 9309 }
`;
const plan = (text: string, services = ['coa', 'gemeente-kvs', 'kredietbank', 'admin']) =>
  servicePlans(modules, services, text, opts);
const byService = (text: string) => new Map(plan(text).map((p) => [p.service, p]));

describe('servicePlans', () => {
  it("gives each service the variables of its module's blocks, and none of another's", () => {
    const plans = byService(`${HEAD}
partners:
  coa:
    credential:
      apiKeyHash: \${KETENHUB_COA_API_KEY_HASH:-}
  gemeente-kvs:
    organisations:
      - id: kvs-gm0797
        endpoint:
          url: \${KVS_URL_GM0797:-http://kvs-simulator:4310/gemeenten/gm0797/events}
          token: \${KETENHUB_KVS_TOKEN_GM0797:-}
  kredietbank:
    endpoint:
      url: https://kredietbank.example/v1
      token: \${KETENHUB_KREDIETBANK_TOKEN:-}
    credential:
      apiKeyHash: \${KETENHUB_KREDIETBANK_API_KEY_HASH:-}
  not-deployed:
    endpoint: { url: '\${SOMEONE_ELSES_URL}' }
admins:
  - id: beheer
    credential:
      apiKeyHash: \${KETENHUB_ADMIN_API_KEY_HASH:-}
${SERVICES}`);
    const env = (s: string) => plans.get(s)!.env.map((v) => v.name);
    expect(env('coa')).toEqual(['KETENHUB_COA_API_KEY_HASH']);
    expect(env('gemeente-kvs')).toEqual(['KVS_URL_GM0797', 'KETENHUB_KVS_TOKEN_GM0797']);
    expect(env('kredietbank')).toEqual([
      'KETENHUB_KREDIETBANK_TOKEN',
      'KETENHUB_KREDIETBANK_API_KEY_HASH',
    ]);
    // The admin module reads `admins`, and the previous pseudonym key from its environment.
    expect(env('admin')).toEqual([
      'KETENHUB_ADMIN_API_KEY_HASH',
      'KETENHUB_PSEUDONYM_KEY_PREVIOUS',
    ]);

    const kvsUrl = plans.get('gemeente-kvs')!.env[0]!;
    expect(kvsUrl).toEqual({
      name: 'KVS_URL_GM0797',
      required: false,
      fields: ['partners.gemeente-kvs.organisations[0].endpoint.url'],
      fallback: 'http://kvs-simulator:4310/gemeenten/gm0797/events',
    });
    expect(describeVar(kvsUrl)).toBe(
      'partners.gemeente-kvs.organisations[0].endpoint.url (empty: http://kvs-simulator:4310/gemeenten/gm0797/events)',
    );
    expect(plans.get('gemeente-kvs')!.calls).toEqual(['kvs-simulator']);
    expect(plans.get('kredietbank')!.calls).toEqual(['kredietbank.example']);
  });

  it('requires a credential and a variable without fallback; the rest may be empty', () => {
    const plans = byService(`${HEAD}
partners:
  coa:
    credential:
      apiKeyHash: \${KETENHUB_COA_API_KEY_HASH:-}
    endpoint:
      url: \${COA_URL}
      token: \${KETENHUB_COA_TOKEN:-}
  kredietbank:
    endpoint:
      token: \${KETENHUB_KREDIETBANK_TOKEN:-}
${SERVICES}`);
    const required = (s: string) =>
      Object.fromEntries(plans.get(s)!.env.map((v) => [v.name, v.required]));
    expect(required('coa')).toEqual({
      KETENHUB_COA_API_KEY_HASH: true,
      COA_URL: true,
      KETENHUB_COA_TOKEN: false,
    });
    // The Kredietbank demands the hub's token though the configuration has a fallback.
    const token = plans.get('kredietbank')!.env[0]!;
    expect(token.required).toBe(true);
    expect(describeVar(token)).toMatch(/^partners\.kredietbank\.endpoint\.token: the Kredietbank/);
  });

  it('takes the ports from the services block, the API port only for a module with an edge', () => {
    const plans = byService(`${HEAD}
services:
  coa: { host: 0.0.0.0, port: 4301, opsPort: 9301 }
  gemeente-kvs: { host: 0.0.0.0, port: 4303, opsPort: 9302 }
  kredietbank: { host: 0.0.0.0, opsPort: 9305 }
  admin: { host: 0.0.0.0, port: 4309, opsPort: 9309 }
`);
    expect(plans.get('coa')).toMatchObject({ port: 4301, opsPort: 9301 });
    expect(plans.get('gemeente-kvs')).toMatchObject({ port: 4303, opsPort: 9302 });
    expect(plans.get('kredietbank')!.port).toBeUndefined();
  });

  it('plans only the services given, in the order of the modules', () => {
    expect(plan(`${HEAD}${SERVICES}`, ['admin', 'coa']).map((p) => p.service)).toEqual([
      'coa',
      'admin',
    ]);
  });

  it.each([
    [
      'a variable in no module’s block',
      `${HEAD}gemeenten:\n  - code: gm0797\n    naam: \${NAAM}\n${SERVICES}`,
      'test.yaml: gemeenten[0].naam reads ${NAAM}, which is in no module',
    ],
    [
      'a variable of every process the template does not set',
      `${HEAD}  url: \${NATS_URL}\n${SERVICES}`,
      'test.yaml: nats.url reads ${NATS_URL}: every process reads it',
    ],
    [
      'a deployed service without its block',
      `${HEAD}services:\n  coa: { host: 0.0.0.0, opsPort: 9301 }\n`,
      'test.yaml: services.gemeente-kvs: missing; the gemeente-kvs module is deployed',
    ],
    [
      'a service listening on loopback only',
      `${HEAD}${SERVICES.replace('coa: { host: 0.0.0.0', 'coa: { host: 127.0.0.1')}`,
      'test.yaml: services.coa.host: must be 0.0.0.0',
    ],
    [
      'a service without a fixed ops port',
      `${HEAD}${SERVICES.replace(', opsPort: 9302', '')}`,
      'test.yaml: services.gemeente-kvs.opsPort: required',
    ],
  ])('refuses %s, naming the file and the field', (_what, text, message) => {
    expect(() => plan(text)).toThrow(DeployPlanError);
    expect(() => plan(text)).toThrow(message);
  });

  it('refuses a deployed service no registered module runs', () => {
    expect(() => servicePlans([coaModule()], ['coa', 'duo'], `${HEAD}${SERVICES}`, opts)).toThrow(
      'test.yaml: services.duo: no registered module runs it',
    );
  });
});

describe('replaceRegion', () => {
  const text = ['a', '  # BEGIN deploy:gen x: what', 'old', '  # END deploy:gen x', 'b'].join('\n');

  it('replaces what is between the markers and keeps them', () => {
    expect(replaceRegion(text, 'x', ['new', 'lines'], 'f')).toBe(
      ['a', '  # BEGIN deploy:gen x: what', 'new', 'lines', '  # END deploy:gen x', 'b'].join('\n'),
    );
  });

  it('refuses a file without the markers', () => {
    expect(() => replaceRegion(text, 'y', [], 'f')).toThrow(
      'f: no "# BEGIN deploy:gen y" … "# END deploy:gen y" lines to fill',
    );
  });
});
