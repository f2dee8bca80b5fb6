/**
 * Runs the KVS simulator on its own:
 *
 *   node adapters/gemeente-kvs/src/simulator/main.ts --port 4310 --gemeenten gm0797,gm0363
 *
 * Prints the base URL as one line on stdout (scripts read it) and logs to stderr with
 * --verbose. Bearer tokens come from KVS_SIM_TOKENS (`gm0797=secret,gm0363=other`) so they stay
 * out of the process list; --token is there for quick local runs.
 */

import { parseArgs } from 'node:util';
import { schemas } from '@ketenhub/contracts';
import { KVS_DELIVERY_SCHEMA } from '../deliver.ts';
import { startKvsSimulator } from './kvs-simulator.ts';
import type { SimulatorLogger } from './kvs-simulator.ts';

const USAGE = `usage: main.ts --gemeenten gm0797,gm0363 [--port 4310] [--host 127.0.0.1]
               [--token gm0797=secret ...] [--max-events 200000] [--verbose]
env: KVS_SIM_TOKENS=gm0797=secret,gm0363=other`;

function fail(message: string): never {
  console.error(`kvs-simulator: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseTokens(pairs: string[]): Record<string, string> {
  const tokens: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) fail(`token '${pair.slice(0, 8)}…' must look like gm0797=secret`);
    tokens[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return tokens;
}

function integer(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a non-negative integer`);
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string', default: '4310' },
      host: { type: 'string', default: '127.0.0.1' },
      gemeenten: { type: 'string' },
      token: { type: 'string', multiple: true, default: [] },
      'max-events': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
} catch (err) {
  fail((err as Error).message);
}

if (args.help) {
  console.error(USAGE);
  process.exit(0);
}
if (!args.gemeenten) fail('--gemeenten is required');

const envTokens = (process.env.KVS_SIM_TOKENS ?? '').split(',').filter((s) => s.trim() !== '');
const logLine =
  (level: string) =>
  (fields: Record<string, unknown>, message: string): void =>
    console.error(
      JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields }),
    );
const logger: SimulatorLogger | undefined = args.verbose
  ? { info: logLine('info'), warn: logLine('warn') }
  : undefined;

let sim;
try {
  sim = await startKvsSimulator({
    host: args.host,
    port: integer(args.port, 'port', 4310),
    gemeenten: args.gemeenten
      .split(',')
      .map((g) => g.trim().toLowerCase())
      .filter((g) => g !== ''),
    tokens: parseTokens([...envTokens, ...args.token]),
    maxEvents: integer(args['max-events'], 'max-events', 200_000),
    // Strict like a real KVS: anything off the delivery contract is refused with 400.
    validate: (event) => schemas().validate(KVS_DELIVERY_SCHEMA, event),
    ...(logger ? { logger } : {}),
  });
} catch (err) {
  fail((err as Error).message);
}

process.stdout.write(`${sim.url}\n`);

const simulator = sim;
let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) {
    // A second signal means the operator no longer wants to wait.
    process.exit(130);
  }
  stopping = true;
  simulator.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`kvs-simulator: error while stopping on ${signal}:`, err);
      process.exit(1);
    },
  );
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
