/**
 * The hub configuration a bench run uses: config/ketenhub.yaml as shipped (same gemeenten,
 * concurrency, retry and breaker settings, so the figures are those of the real deployment),
 * with only the ports, the URLs and the NATS server replaced. Secrets stay `${VAR}` references
 * filled from the children's environment, as in production.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { DEFAULT_CONFIG } from '@ketenhub/kit';
import { getFreePort } from '@ketenhub/kit/processes';

export interface BenchHub {
  configFile: string;
  /** Environment for every child: secrets, config path, NATS URL. */
  env: NodeJS.ProcessEnv;
  gemeenten: string[];
  coaUrl: string;
  coaOpsUrl: string;
  kvsOpsUrl: string;
  kvsSimPort: number;
  kvsSimUrl: string;
  coaApiKey: string;
}

interface RawKvs {
  gemeenten: [string];
  endpoint: { url: string; token?: string; timeoutMs?: number };
}

interface RawConfig {
  nats: { url: string; startLocal?: boolean; storeDir?: string };
  gemeenten: { code: string }[];
  partners: { 'gemeente-kvs': { organisations: RawKvs[] } };
  services: {
    coa: { host?: string; port: number; opsPort: number; csvBodyLimitBytes?: number };
    'gemeente-kvs': { opsPort: number };
  };
  simulators?: { kvs?: { port: number } };
}

/** Enough for a TVS export of 100,000 rows (about 16 MB) with room to spare. */
const MIN_CSV_BODY_LIMIT = 64 * 1024 * 1024;

export async function writeBenchConfig(dir: string, natsUrl: string): Promise<BenchHub> {
  const raw = parse(readFileSync(DEFAULT_CONFIG, 'utf8')) as RawConfig;
  const [coaPort, coaOps, kvsOps, simPort] = await Promise.all([
    getFreePort(),
    getFreePort(),
    getFreePort(),
    getFreePort(),
  ]);
  const simUrl = `http://127.0.0.1:${simPort}`;

  raw.nats = { url: '${NATS_URL}', startLocal: false };
  const tokens: Record<string, string> = {};
  const gemeenten = raw.gemeenten.map((g) => g.code);
  for (const kvs of raw.partners['gemeente-kvs'].organisations) {
    const [gemeente] = kvs.gemeenten;
    const variable = `KETENHUB_KVS_TOKEN_${gemeente.toUpperCase()}`;
    tokens[variable] = randomBytes(16).toString('hex');
    kvs.endpoint.url = `${simUrl}/gemeenten/${gemeente}/events`;
    kvs.endpoint.token = `\${${variable}}`;
  }
  raw.services.coa.host = '127.0.0.1';
  raw.services.coa.port = coaPort;
  raw.services.coa.opsPort = coaOps;
  raw.services.coa.csvBodyLimitBytes = Math.max(
    raw.services.coa.csvBodyLimitBytes ?? 0,
    MIN_CSV_BODY_LIMIT,
  );
  raw.services['gemeente-kvs'].opsPort = kvsOps;
  raw.simulators = { kvs: { port: simPort } };

  const configFile = join(dir, 'ketenhub-bench.yaml');
  writeFileSync(configFile, stringify(raw), { mode: 0o600 });
  const coaApiKey = randomBytes(24).toString('hex');
  return {
    configFile,
    env: {
      ...process.env,
      KETENHUB_CONFIG: configFile,
      NATS_URL: natsUrl,
      KETENHUB_PSEUDONYM_KEY: randomBytes(32).toString('hex'),
      KETENHUB_COA_API_KEY: coaApiKey,
      // The simulator reads its tokens from here so they stay out of the process list.
      KVS_SIM_TOKENS: gemeenten
        .map((code) => `${code}=${tokens[`KETENHUB_KVS_TOKEN_${code.toUpperCase()}`]}`)
        .join(','),
      ...tokens,
    },
    gemeenten,
    coaUrl: `http://127.0.0.1:${coaPort}`,
    coaOpsUrl: `http://127.0.0.1:${coaOps}`,
    kvsOpsUrl: `http://127.0.0.1:${kvsOps}`,
    kvsSimPort: simPort,
    kvsSimUrl: simUrl,
    coaApiKey,
  };
}
