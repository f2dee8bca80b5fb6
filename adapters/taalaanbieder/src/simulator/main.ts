/**
 * Runs one taalaanbieder simulator (one per school):
 *
 *   node adapters/taalaanbieder/src/simulator/main.ts --id taalschool-noord --port 4331 \
 *     --hub-url http://127.0.0.1:4304 --hub-api-key-env KETENHUB_TAALAANBIEDER_TAALSCHOOL_NOORD_API_KEY
 *
 * Prints the base URL as one line on stdout (scripts read it; the hub's taalaanbieders[].url
 * points at it). Keys are read from the environment variables named, so they stay out of the
 * process list. `POST <url>/_sim/tick` reports a week of lessons to the hub.
 */

import { parseArgs } from 'node:util';
import { startTaalaanbiederSimulator } from './taalaanbieder-simulator.ts';

const USAGE = `usage: main.ts --id <school> [--port 0] [--host 127.0.0.1]
               [--hub-url http://127.0.0.1:4304] [--hub-api-key-env VAR] [--token-env VAR]`;

function fail(message: string): never {
  console.error(`taalaanbieder-simulator: ${message}\n${USAGE}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      id: { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'hub-url': { type: 'string' },
      'hub-api-key-env': { type: 'string' },
      'token-env': { type: 'string' },
    },
  }).values;
} catch (err) {
  fail((err as Error).message);
}
if (!args.id) fail('--id is required');
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0) fail('--port must be a non-negative integer');
const envOf = (name: string | undefined) => (name ? process.env[name] : undefined);
const hubApiKey = envOf(args['hub-api-key-env']);
const token = envOf(args['token-env']);

const sim = await startTaalaanbiederSimulator({
  id: args.id,
  host: args.host,
  port,
  ...(args['hub-url'] ? { hubUrl: args['hub-url'] } : {}),
  ...(hubApiKey ? { hubApiKey } : {}),
  ...(token ? { token } : {}),
});
process.stdout.write(`${sim.url}\n`);
const stop = () => {
  void sim.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
