import { jetstreamManager } from '@nats-io/jetstream';
import {
  startTaalaanbiederSimulator,
  type TaalaanbiederSimulator,
} from '@ketenhub/simulator-taalaanbieder';
import {
  STREAMS,
  createLogger,
  type HubConfig,
  type Logger,
  runModules,
  type RunningModules,
} from '@ketenhub/kit';
import { startTestChain, type TestChain } from './chain.ts';
import { TEST_SERVICE, startIdentityFeed, startOrganisations } from './organisations.ts';
import { taalaanbiederModule } from '@ketenhub/adapter-taalaanbieder';

export const TEST_SCHOOLS = ['taalschool-noord', 'taalschool-zuid'] as const;

export interface TaalaanbiederTestChain extends TestChain {
  schools: Map<string, TaalaanbiederSimulator>;
  schoolKeys: Map<string, string>;
  taalaanbieder: RunningModules;
  /** Calls the hub's school API as `school` (undefined: without a key). */
  schoolPost(
    school: string | undefined,
    path: string,
    body: unknown,
    contentType?: string,
  ): Promise<Response>;
  /** The data of the last event stored on `subject` in the KETEN stream, if any. */
  lastOnSubject(subject: string): Promise<unknown>;
  /** The last processing-log record on `subject` (stream VERWERKINGEN), if any. */
  lastRecord(subject: string): Promise<Record<string, unknown> | undefined>;
}

/** The test chain plus two taalaanbieder simulators and the hub's taalaanbieder adapter. */
export async function startTaalaanbiederTestChain(
  opts: { logger?: Logger } = {},
): Promise<TaalaanbiederTestChain> {
  const logger = opts.logger ?? createLogger('test', { level: process.env.LOG_LEVEL ?? 'error' });
  const chain = await startTestChain({ logger });
  const {
    sims: schools,
    keys: schoolKeys,
    organisations,
    connect,
  } = await startOrganisations(
    Object.fromEntries(TEST_SCHOOLS.map((id) => [id, undefined])) as Record<string, undefined>,
    ({ id, token }) => startTaalaanbiederSimulator({ id, token }),
  );
  const config: HubConfig = {
    ...chain.config,
    partners: { ...chain.config.partners, taalaanbieder: { organisations } },
    services: {
      ...chain.config.services,
      taalaanbieder: TEST_SERVICE,
    },
  };
  const taalaanbieder = await runModules(config, [taalaanbiederModule()], { logger });
  connect(taalaanbieder.url!);
  // The schools get aanmeldingen only for persons the hub knows for the PIP's gemeente; the DUO
  // and Kredietbank services bind them from the koppeling and the vestiging. This chain runs
  // neither, so it runs their identity consumer itself.
  const identities = await startIdentityFeed(chain.nats.url, config.hub.pseudonymKey, logger);
  const jsm = await jetstreamManager(identities.nc);
  return {
    ...chain,
    config,
    schools,
    schoolKeys,
    taalaanbieder,
    schoolPost(school, path, body, contentType = 'application/json') {
      const key = school ? schoolKeys.get(school) : undefined;
      return fetch(`${taalaanbieder.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': contentType,
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    async lastOnSubject(subject) {
      const m = await jsm.streams
        .getMessage(STREAMS.keten, { last_by_subj: subject })
        .catch(() => null);
      return m ? (m.json<{ data: unknown }>().data as unknown) : undefined;
    },
    async lastRecord(subject) {
      const m = await jsm.streams
        .getMessage(STREAMS.processingLog, { last_by_subj: subject })
        .catch(() => null);
      return m ? m.json<Record<string, unknown>>() : undefined;
    },
    async stop() {
      await taalaanbieder.stop();
      await identities.stop();
      for (const sim of schools.values()) await sim.close();
      await chain.stop();
    },
  };
}
