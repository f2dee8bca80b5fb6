import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { coaModule } from '@ketenhub/adapter-coa';
import { kredietbankModule } from '@ketenhub/adapter-kredietbank';
import { REPO_ROOT, type PartnerModule } from '@ketenhub/kit';
import {
  COMPOSE_CONFIG,
  COMPOSE_ENV_EXAMPLE,
  COMPOSE_FILE,
  K8S_CONFIG,
  K8S_DIR,
  K8S_NATS_FILE,
  deploymentFiles,
  generatedFiles,
} from '../../scripts/deploy-gen.ts';
import { MODULES } from '../../scripts/modules.ts';
import { envFileKeys, parseDocuments, parseYaml, type ComposeFile } from './manifests.ts';

const files = await generatedFiles();

describe('deployment artefacts generated from the partner modules', () => {
  it.each([...files].map(([file, text]) => [path.relative(REPO_ROOT, file), text]))(
    '%s is what the modules and the configuration say (npm run deploy:gen)',
    (file, text) => {
      const abs = path.join(REPO_ROOT, file);
      const current = existsSync(abs) ? readFileSync(abs, 'utf8') : null;
      expect(current, 'run `npm run deploy:gen`').toBe(text);
    },
  );

  it('registers every module once, each under its own service and id', () => {
    const modules = MODULES.map((m) => m());
    expect(new Set(modules.map((m) => m.service)).size).toBe(modules.length);
    expect(new Set(modules.map((m) => m.id)).size).toBe(modules.length);
  });
});

/**
 * A configuration of its own for the real COA and Kredietbank modules, in the shape every
 * partner has (`partners.<id>`), the Kredietbank on other ports than the shipped ones.
 */
const config = (nats: { url: string; user: string }) =>
  [
    'hub:',
    '  pseudonymKey: ${KETENHUB_PSEUDONYM_KEY}',
    'nats:',
    `  url: ${nats.url}`,
    `  user: ${nats.user}`,
    'partners:',
    '  coa:',
    '    credential:',
    '      apiKeyHash: ${KETENHUB_COA_API_KEY_HASH:-}',
    '  kredietbank:',
    '    endpoint:',
    '      url: ${KREDIETBANK_BASE_URL:-http://kredietbank-simulator:4340/v1}',
    '      token: ${KETENHUB_KREDIETBANK_TOKEN:-}',
    '    credential:',
    '      apiKeyHash: ${KETENHUB_KREDIETBANK_API_KEY_HASH:-}',
    'services:',
    '  coa: { host: 0.0.0.0, port: 4301, opsPort: 9301 }',
    '  kredietbank: { host: 0.0.0.0, port: 4405, opsPort: 9405 }',
    '',
  ].join('\n');

/** The compose and Kubernetes files for `modules` under that configuration. */
async function deployed(modules: PartnerModule[]) {
  const out = await deploymentFiles(
    modules,
    modules.map((m) => m.service),
    (file) => {
      if (file === COMPOSE_CONFIG) {
        return config({ url: '${NATS_URL:-nats://nats-1:4222}', user: '${NATS_USER:-}' });
      }
      if (file === K8S_CONFIG) {
        return stringify({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'ketenhub-config' },
          data: {
            'ketenhub.yaml': config({
              url: 'nats://nats-0.nats-headless:4222',
              user: '${NATS_USER}',
            }),
          },
        });
      }
      return readFileSync(file, 'utf8');
    },
  );
  const compose = parseYaml(out.get(COMPOSE_FILE)!) as ComposeFile;
  const k8s = [...out]
    .filter(([file]) => path.dirname(file) === K8S_DIR)
    .flatMap(([file, text]) =>
      parseDocuments(text).map((m) => ({ ...m, file: path.basename(file) })),
    ) as (Record<string, any> & { file: string })[];
  const named = (kind: string, name: string) =>
    k8s.find((m) => m.kind === kind && m.metadata?.name === name);
  return { out, compose, k8s, named };
}

/** The variables of the NATS pods' container in nats.yaml. */
function natsPodEnv(text: string): string[] {
  const sts = parseDocuments(text).find((m) => m.kind === 'StatefulSet') as Record<string, any>;
  return sts.spec.template.spec.containers[0].env.map((e: { name: string }) => e.name);
}

describe('deploy:gen for the modules of a list', () => {
  it('gives a module registered in the list its compose service and its Deployment', async () => {
    const { out, compose, k8s, named } = await deployed([coaModule(), kredietbankModule()]);

    const kb = compose.services.kredietbank!;
    expect(kb.command).toEqual(['node', 'services/kredietbank/main.ts']);
    expect(kb.ports).toEqual(['127.0.0.1:4405:4405', '127.0.0.1:9405:9405']);
    expect(kb.environment).toMatchObject({
      NATS_USER: 'kredietbank',
      NATS_PASSWORD: '${KETENHUB_NATS_PASSWORD_KREDIETBANK:?set in deploy/.env}',
      KETENHUB_KREDIETBANK_API_KEY_HASH: '${KETENHUB_KREDIETBANK_API_KEY_HASH:?set in deploy/.env}',
      KETENHUB_KREDIETBANK_TOKEN: '${KETENHUB_KREDIETBANK_TOKEN:?set in deploy/.env}',
      KREDIETBANK_BASE_URL: '${KREDIETBANK_BASE_URL:-}',
      // From x-node-env, as every Node process.
      KETENHUB_CONFIG: '/app/deploy/compose/ketenhub.yaml',
    });
    expect(kb.healthcheck?.test?.join(' ')).toContain("fetch('http://127.0.0.1:9405/health')");
    // It calls the simulator of the file at its config's fallback URL, so it waits for it.
    expect(kb.depends_on).toEqual({
      provision: { condition: 'service_completed_successfully' },
      'kredietbank-simulator': { condition: 'service_healthy' },
    });
    // Not in the list, not deployed; the hand-written parts stay as they are.
    for (const s of ['duo', 'gemeente-kvs', 'taalaanbieder', 'admin']) {
      expect(compose.services[s], s).toBeUndefined();
    }
    expect(compose.services['kredietbank-simulator']).toBeDefined();
    expect(compose.services['nats-1']!.environment).toHaveProperty(
      'KETENHUB_NATS_PASSWORD_KREDIETBANK',
    );
    expect(envFileKeys(out.get(COMPOSE_ENV_EXAMPLE)!)).toEqual(
      expect.arrayContaining([
        'KETENHUB_NATS_PASSWORD_KREDIETBANK',
        'KETENHUB_KREDIETBANK_API_KEY_HASH',
        'KETENHUB_KREDIETBANK_TOKEN',
      ]),
    );

    const deployment = named('Deployment', 'kredietbank')!;
    expect(deployment.file).toBe('kredietbank.yaml');
    const pod = deployment.spec.template;
    expect(pod.metadata.annotations['prometheus.io/port']).toBe('9405');
    const container = pod.spec.containers[0];
    expect(container.command).toEqual(['node', 'services/kredietbank/main.ts']);
    expect(container.ports).toEqual([
      { name: 'api', containerPort: 4405 },
      { name: 'ops', containerPort: 9405 },
    ]);
    const env = Object.fromEntries(
      container.env.map((e: Record<string, any>) => [e.name, e.valueFrom?.secretKeyRef ?? e.value]),
    );
    expect(env).toMatchObject({
      NATS_USER: 'kredietbank',
      NATS_PASSWORD: { name: 'ketenhub-secrets', key: 'nats-password-kredietbank' },
      KETENHUB_KREDIETBANK_API_KEY_HASH: {
        name: 'ketenhub-secrets',
        key: 'kredietbank-api-key-hash',
      },
    });
    // Every variable the configuration reads comes from the Secret; one with a fallback may be
    // missing (the shipped ConfigMap writes the partners' addresses as they are).
    expect(env.KREDIETBANK_BASE_URL).toEqual({
      name: 'ketenhub-secrets',
      key: 'kredietbank-base-url',
      optional: true,
    });
    expect(named('Service', 'kredietbank')!.spec.ports.map((p: any) => p.port)).toEqual([
      4405, 9405,
    ]);
    expect(k8s.find((m) => m.kind === 'Kustomization')!.resources).toEqual([
      'namespace.yaml',
      'nats.yaml',
      'ketenhub-config.yaml',
      'provision-job.yaml',
      'coa.yaml',
      'kredietbank.yaml',
    ]);
    const secret = named('Secret', 'ketenhub-secrets')!;
    expect(secret.metadata.annotations['ketenhub.nl/required-keys']).toContain(
      'kredietbank-api-key-hash',
    );
    expect(natsPodEnv(out.get(K8S_NATS_FILE)!)).toContain('KETENHUB_NATS_PASSWORD_KREDIETBANK');
  });

  it('deploys nothing of a module left out of the list', async () => {
    const { out, compose, named } = await deployed([coaModule()]);
    expect(compose.services.kredietbank).toBeUndefined();
    expect(compose.services.coa).toBeDefined();
    expect(out.has(path.join(K8S_DIR, 'kredietbank.yaml'))).toBe(false);
    expect(named('Deployment', 'coa')).toBeDefined();
    expect(out.get(COMPOSE_ENV_EXAMPLE)).not.toContain('KREDIETBANK_API_KEY_HASH');
    // (nats.yaml's copy of permissions.conf is generatedFiles' business, from the real config.)
    expect(natsPodEnv(out.get(K8S_NATS_FILE)!)).not.toContain('KETENHUB_NATS_PASSWORD_KREDIETBANK');
  });
});
