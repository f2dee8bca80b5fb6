import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemas } from '@ketenhub/contracts';
import type { HubConfig } from '@ketenhub/contracts/generated';
import { loadConfig } from './config.ts';
import { DEFAULT_LIMITS, type StreamLimits } from './nats.ts';

export type { HubConfig };

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_CONFIG = resolve(REPO_ROOT, 'config/ketenhub.yaml');
const SCHEMA_ID = 'https://contracts.ketenhub.nl/config/hub-config.schema.json';

/**
 * The hub's configuration: `KETENHUB_CONFIG` or config/ketenhub.yaml, validated against the
 * config contract; a bad value stops the process with its path.
 */
export function loadHubConfig(
  file: string = process.env.KETENHUB_CONFIG ?? DEFAULT_CONFIG,
  env: NodeJS.ProcessEnv = process.env,
): HubConfig {
  return loadConfig<HubConfig>(file, schemas().byId(SCHEMA_ID).schema, { env });
}

/** CBS codes of the gemeenten this hub serves. */
export function servedGemeenten(config: HubConfig): Set<string> {
  return new Set(config.gemeenten.map((g) => g.code));
}

/** Stream limits from the config, defaults where it is silent. */
export function streamLimits(config: HubConfig): StreamLimits {
  return { ...DEFAULT_LIMITS, ...config.streams } as StreamLimits;
}
