/**
 * The generated parts of deploy/compose.yaml and deploy/compose.env.example: one compose service
 * per deployed service, from one template; the NATS nodes' password variables; the variables the
 * services read, for deploy/.env. NATS, provisioning and the simulators stay written by hand in
 * the same files, outside the `deploy:gen` regions.
 */
import { parse } from 'yaml';
import { natsPasswordVariable } from '@ketenhub/kit/deploy';
import {
  DeployPlanError,
  comment,
  describeVar,
  natsUsers,
  replaceRegion,
  type ServicePlan,
} from './plan.ts';

/** What compose.yaml's `x-node-env` gives every Node process, and its config reads in hub, nats. */
export const COMPOSE_SHARED = ['KETENHUB_PSEUDONYM_KEY', 'NATS_URL', 'NATS_USER', 'NATS_PASSWORD'];

const demanded = (name: string) => `\${${name}:?set in deploy/.env}`;
const optional = (name: string) => `\${${name}:-}`;

interface HandService {
  healthcheck?: { test?: unknown; disable?: boolean };
}

/** A deployed service as a compose service: `services.<name>` of compose.yaml, indented. */
export function composeService(
  plan: ServicePlan,
  hand: Record<string, HandService>,
  file: string,
): string[] {
  const { service, module, port, opsPort } = plan;
  if (!hand.provision) throw new DeployPlanError(`${file}: no provision service to wait for`);
  // The simulators (or other containers) of the file it calls, by their service names.
  const waitsFor = plan.calls.filter((host) => hand[host] !== undefined);
  for (const host of waitsFor) {
    const check = hand[host]!.healthcheck;
    if (!check?.test || check.disable) {
      throw new DeployPlanError(
        `${file}: ${service} calls ${host}, which has no healthcheck to wait for`,
      );
    }
  }
  return [
    ...comment(
      `services/${service}: ${module.description} (module ${module.id}, ${module.kind}).`,
      '  ',
    ),
    `  ${service}:`,
    '    <<: *node',
    `    command: ['node', 'services/${service}/main.ts']`,
    '    environment:',
    '      <<: *node-env',
    `      NATS_USER: ${service}`,
    `      NATS_PASSWORD: ${demanded(natsPasswordVariable(service))}`,
    ...plan.env.flatMap((v) => [
      ...comment(describeVar(v), '      '),
      `      ${v.name}: ${v.required ? demanded(v.name) : optional(v.name)}`,
    ]),
    '    ports:',
    ...(port !== undefined ? [`      - 127.0.0.1:${port}:${port}`] : []),
    `      - 127.0.0.1:${opsPort}:${opsPort}`,
    '    healthcheck:',
    '      test:',
    '        - CMD',
    '        - node',
    '        - -e',
    `        - "fetch('http://127.0.0.1:${opsPort}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`,
    '      interval: 5s',
    '      timeout: 3s',
    '      retries: 3',
    '      start_period: 20s',
    '    depends_on:',
    '      provision: { condition: service_completed_successfully }',
    ...waitsFor.map((host) => `      ${host}: { condition: service_healthy }`),
  ];
}

/**
 * deploy/compose.yaml with its `services` and `nats-passwords` regions generated from `plans`;
 * the rest of the file (NATS, provisioning, simulators, the `x-` templates) as it is.
 */
export function withComposeServices(text: string, plans: ServicePlan[], file: string): string {
  const handOnly = replaceRegion(
    replaceRegion(text, 'services', [], file),
    'nats-passwords',
    [],
    file,
  );
  const hand = ((parse(handOnly, { merge: true }) as { services?: Record<string, HandService> })
    .services ?? {}) as Record<string, HandService>;
  for (const p of plans) {
    if (hand[p.service]) {
      throw new DeployPlanError(`${file}: ${p.service} is written by hand and generated`);
    }
  }
  const services = plans.flatMap((p, i) => [
    ...(i > 0 ? [''] : []),
    ...composeService(p, hand, file),
  ]);
  const passwords = natsUsers(plans).map((user) => {
    const v = natsPasswordVariable(user);
    return `    ${v}: ${demanded(v)}`;
  });
  return replaceRegion(
    replaceRegion(text, 'services', services, file),
    'nats-passwords',
    passwords,
    file,
  );
}

/** deploy/compose.env.example with its `services` region: the variables the services read. */
export function withComposeEnvExample(text: string, plans: ServicePlan[], file: string): string {
  const body = [
    '# Passwords of the NATS users (deploy/nats/permissions.conf), one per process.',
    ...natsUsers(plans).map((user) => `${natsPasswordVariable(user)}=`),
    ...plans.flatMap((p) =>
      p.env.length === 0
        ? []
        : [
            '',
            ...comment(`services/${p.service}: ${p.module.description}.`),
            ...p.env.flatMap((v) => [
              ...comment(v.required ? describeVar(v) : `Optional: ${describeVar(v)}`, '', '  '),
              `${v.name}=`,
            ]),
          ],
    ),
  ];
  const out = replaceRegion(text, 'services', body, file);
  const keys = [...out.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]!);
  const twice = keys.filter((k, i) => keys.indexOf(k) !== i);
  if (twice.length > 0) {
    throw new DeployPlanError(
      `${file}: ${[...new Set(twice)].join(', ')} written by hand as well as generated; remove the hand line`,
    );
  }
  return out;
}
