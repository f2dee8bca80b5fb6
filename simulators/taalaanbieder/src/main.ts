/**
 * Runs one taalaanbieder simulator (one per school):
 *
 *   node simulators/taalaanbieder/src/main.ts --id taalschool-noord --port 4331 \
 *     --hub-url http://127.0.0.1:4304 --hub-api-key-env KETENHUB_TAALAANBIEDER_TAALSCHOOL_NOORD_API_KEY
 *
 * Prints the base URL as the first line on stdout (scripts read it; the hub's
 * partners.taalaanbieder.organisations[].endpoint.url points at it). Keys are read from the environment variables named, so
 * they stay out of the process list; one that is not set means none (no token checked, no key
 * to report with). `POST <url>/_sim/tick` reports a week of lessons to the hub.
 */

import { runSimulatorMain } from '@ketenhub/simulator-kit';
import { startTaalaanbiederSimulator } from './taalaanbieder-simulator.ts';

await runSimulatorMain({
  name: 'taalaanbieder-simulator',
  usage: `usage: main.ts --id <school> [--port 0] [--host 127.0.0.1]
               [--hub-url http://127.0.0.1:4304] [--hub-api-key-env VAR] [--token-env VAR]
               [--verbose]`,
  defaultPort: 0,
  options: {
    id: { type: 'string' },
    'hub-url': { type: 'string' },
    'hub-api-key-env': { type: 'string' },
    'token-env': { type: 'string' },
  },
  async start(cli, { host, port, logger }) {
    const id = cli.values.id ?? cli.fail('--id is required');
    const hubUrl = cli.values['hub-url'];
    const hubApiKey = cli.fromEnv('hub-api-key-env', { optional: true });
    const token = cli.fromEnv('token-env', { optional: true });
    return startTaalaanbiederSimulator({
      id,
      host,
      port,
      ...(hubUrl ? { hubUrl } : {}),
      ...(hubApiKey ? { hubApiKey } : {}),
      ...(token ? { token } : {}),
      logger,
    });
  },
});
