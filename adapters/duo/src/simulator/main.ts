/**
 * Runs the DUO simulator on its own:
 *
 *   node adapters/duo/src/simulator/main.ts --port 4320 \
 *     --gemeente 0797:00000001001234567000 --gemeente 0796:00000001001234568000 \
 *     --hub-url http://127.0.0.1:4302/v1 --hub-api-key-env KETENHUB_DUO_API_KEY
 *
 * Prints the base URL as one line on stdout (scripts read it; the hub's DUO adapter points at
 * that URL + `/v1`) and logs to stderr with --verbose. The hub's API key is read from the
 * environment variable named by --hub-api-key-env so it stays out of the process list.
 */

import { parseArgs } from 'node:util';
import { DEFAULT_DUO_OIN, startDuoSimulator } from './duo-simulator.ts';
import type { SimulatorLogger } from './duo-simulator.ts';

const USAGE = `usage: main.ts --gemeente 0797:<OIN> [--gemeente 0796:<OIN> ...] [--port 4320]
               [--host 127.0.0.1] [--oin ${DEFAULT_DUO_OIN}]
               [--hub-url http://127.0.0.1:4302/v1] [--hub-api-key-env VAR]
               [--spec-dir ../shared/reference/duo-m2m | --no-spec]
               [--processing-delay-ms 100] [--verbose]`;

function fail(message: string): never {
  console.error(`duo-simulator: ${message}\n${USAGE}`);
  process.exit(2);
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
      port: { type: 'string', default: '4320' },
      host: { type: 'string', default: '127.0.0.1' },
      oin: { type: 'string' },
      gemeente: { type: 'string', multiple: true, default: [] },
      'hub-url': { type: 'string' },
      'hub-api-key-env': { type: 'string' },
      'spec-dir': { type: 'string' },
      'no-spec': { type: 'boolean', default: false },
      'processing-delay-ms': { type: 'string' },
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
if (args.gemeente.length === 0) fail('at least one --gemeente CODE:OIN is required');

const gemeenten: Record<string, string> = {};
for (const pair of args.gemeente) {
  const [code, oin, ...rest] = pair.split(':');
  if (!code || !oin || rest.length > 0)
    fail(`--gemeente '${pair}' must look like 0797:<20-digit OIN>`);
  gemeenten[code.trim()] = oin.trim();
}

let hubApiKey: string | undefined;
if (args['hub-api-key-env'] !== undefined) {
  hubApiKey = process.env[args['hub-api-key-env']];
  if (!hubApiKey) fail(`environment variable ${args['hub-api-key-env']} is empty or not set`);
}

const logLine =
  (level: string) =>
  (fields: Record<string, unknown>, message: string): void =>
    console.error(
      JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields }),
    );
// The missing-spec line is printed even without --verbose: running unvalidated should be seen.
const logger: SimulatorLogger = args.verbose
  ? { info: logLine('info'), warn: logLine('warn') }
  : {
      info: () => {},
      warn: (fields, message) =>
        /spec/.test(message) ? logLine('warn')(fields, message) : undefined,
    };

let sim;
try {
  sim = await startDuoSimulator({
    host: args.host,
    port: integer(args.port, 'port', 4320),
    ...(args.oin === undefined ? {} : { oin: args.oin }),
    gemeenten,
    ...(args['hub-url'] === undefined ? {} : { hubNotificatieUrl: args['hub-url'] }),
    ...(hubApiKey === undefined ? {} : { hubApiKey }),
    ...(args['no-spec']
      ? { specDir: false as const }
      : args['spec-dir'] === undefined
        ? {}
        : { specDir: args['spec-dir'] }),
    processingDelayMs: integer(args['processing-delay-ms'], 'processing-delay-ms', 100),
    logger,
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
      console.error(`duo-simulator: error while stopping on ${signal}:`, err);
      process.exit(1);
    },
  );
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
