/**
 * Runs one taalaanbieder simulator (one per school):
 *
 *   node simulators/taalaanbieder/src/main.ts --id taalschool-noord --port 4331 \
 *     --hub-url http://127.0.0.1:4304 --hub-api-key-env KETENHUB_TAALAANBIEDER_TAALSCHOOL_NOORD_API_KEY
 *
 * or, as `npm start` runs it, with `--organisation <school> --port <port>` and the hub
 * configuration in KETENHUB_CONFIG: the school's API at the hub from `services.taalaanbieder`,
 * the key it reports with from that school's `credential.apiKey` and the token it demands from
 * its `endpoint.token` (`partners.taalaanbieder.organisations[]`). Flags win over the
 * configuration; `--id`, the older flag, names the school without reading its block.
 *
 * Prints the base URL as the first line on stdout (scripts read it; the hub's
 * partners.taalaanbieder.organisations[].endpoint.url points at it). Keys named by a flag are
 * read from those environment variables, so they stay out of the process list; one that is not
 * set means none (no token checked, no key to report with). `POST <url>/_sim/tick` reports a
 * week of lessons to the hub.
 */

import { runSimulatorMain } from '@ketenhub/simulator-kit';
import { startTaalaanbiederSimulator } from './taalaanbieder-simulator.ts';

await runSimulatorMain({
  name: 'taalaanbieder-simulator',
  partner: 'taalaanbieder',
  usage: `usage: main.ts --organisation <school> [--port 0] [--host 127.0.0.1]
               [--hub-url http://127.0.0.1:4304] [--hub-api-key-env VAR] [--token-env VAR]
               [--verbose]
env: KETENHUB_CONFIG: the hub configuration, for what no flag gives`,
  defaultPort: 0,
  options: {
    id: { type: 'string' },
    'hub-url': { type: 'string' },
    'hub-api-key-env': { type: 'string' },
    'token-env': { type: 'string' },
  },
  async start(cli, { host, port, logger, organisation, hub }) {
    if (cli.values.id !== undefined && organisation !== undefined) {
      return cli.fail('--id and --organisation name the same; give one');
    }
    const id = cli.values.id ?? organisation ?? cli.fail('--organisation is required');
    const hubUrl = cli.values['hub-url'] ?? hub.serviceUrl();
    // The school's block (under --organisation) for the secrets no flag names.
    const hubApiKey = cli.fromEnv('hub-api-key-env', { optional: true }) ?? hub.apiKey();
    const token = cli.fromEnv('token-env', { optional: true }) ?? hub.token();
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
