/**
 * Runs the Kredietbank simulator on its own:
 *
 *   KETENHUB_KREDIETBANK_API_KEY=... node adapters/kredietbank/src/simulator/main.ts \
 *     --port 4340 --hub-url http://127.0.0.1:4305/v1/webhooks \
 *     --hub-api-key-env KETENHUB_KREDIETBANK_API_KEY [--token-env KETENHUB_KREDIETBANK_TOKEN]
 *
 * Prints the base URL (what `kredietbank.baseUrl` points at) as one line on stdout. Secrets are
 * read from the environment variables named, so they stay out of the process list. The clock
 * moves only by `POST /_sim/clock {"advanceDays": 31}`.
 */

import { parseArgs } from 'node:util';
import { startKredietbankSimulator, type SimulatorLogger } from './kredietbank-simulator.ts';

const USAGE = `usage: main.ts [--port 4340] [--host 127.0.0.1] [--hub-url URL]
               [--hub-api-key-env VAR] [--token-env VAR] [--today YYYY-MM-DD] [--verbose]`;

function fail(message: string): never {
  console.error(`kredietbank-simulator: ${message}\n${USAGE}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string', default: '4340' },
      host: { type: 'string', default: '127.0.0.1' },
      'hub-url': { type: 'string' },
      'hub-api-key-env': { type: 'string' },
      'token-env': { type: 'string' },
      today: { type: 'string' },
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
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be 0..65535');
const fromEnv = (name: string | undefined) => {
  if (name === undefined) return undefined;
  const value = process.env[name];
  if (!value) fail(`environment variable ${name} is empty or not set`);
  return value;
};
const hubApiKey = fromEnv(args['hub-api-key-env']);
const token = fromEnv(args['token-env']);

const line =
  (level: string) =>
  (fields: Record<string, unknown>, msg: string): void =>
    console.error(JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields }));
const logger: SimulatorLogger = args.verbose
  ? { info: line('info'), warn: line('warn') }
  : { info: () => {}, warn: line('warn') };

const sim = await startKredietbankSimulator({
  host: args.host,
  port,
  ...(args['hub-url'] ? { hubWebhookUrl: args['hub-url'] } : {}),
  ...(hubApiKey ? { hubApiKey } : {}),
  ...(token ? { token } : {}),
  ...(args.today ? { today: args.today } : {}),
  logger,
}).catch((err: unknown) => fail((err as Error).message));

process.stdout.write(`${sim.baseUrl}\n`);

let stopping = false;
function stop(): void {
  // A second signal means the operator no longer wants to wait.
  if (stopping) process.exit(130);
  stopping = true;
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
