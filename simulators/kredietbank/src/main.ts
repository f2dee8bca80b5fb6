/**
 * Runs the Kredietbank simulator on its own:
 *
 *   KETENHUB_KREDIETBANK_API_KEY=... node simulators/kredietbank/src/main.ts \
 *     --port 4340 --hub-url http://127.0.0.1:4305/v1/webhooks \
 *     --hub-api-key-env KETENHUB_KREDIETBANK_API_KEY [--token-env KETENHUB_KREDIETBANK_TOKEN]
 *
 * or, as `npm start` runs it, with only `--port` and the hub configuration in KETENHUB_CONFIG:
 * the webhook URL from `services.kredietbank` (+ `/v1/webhooks`), the key it presents there from
 * `partners.kredietbank.credential.apiKey`, the token it demands from
 * `partners.kredietbank.endpoint.token`. Flags win over the configuration.
 *
 * Prints the base URL of its API (what `kredietbank.baseUrl` points at, the server's URL +
 * `/v1`) as the first line on stdout. Secrets are read from the environment variables named, so
 * they stay out of the process list. The clock moves only by `POST /_sim/clock
 * {"advanceDays": 31}`.
 */

import { runSimulatorMain } from '@ketenhub/simulator-kit';
import { startKredietbankSimulator } from './kredietbank-simulator.ts';

await runSimulatorMain({
  name: 'kredietbank-simulator',
  partner: 'kredietbank',
  usage: `usage: main.ts [--port 4340] [--host 127.0.0.1] [--hub-url URL]
               [--hub-api-key-env VAR] [--token-env VAR] [--today YYYY-MM-DD] [--verbose]
env: KETENHUB_CONFIG: the hub configuration, for what no flag gives`,
  defaultPort: 4340,
  options: {
    'hub-url': { type: 'string' },
    'hub-api-key-env': { type: 'string' },
    'token-env': { type: 'string' },
    today: { type: 'string' },
  },
  async start(cli, { host, port, logger, hub }) {
    const hubApiKey = cli.fromEnv('hub-api-key-env') ?? hub.apiKey();
    const token = cli.fromEnv('token-env') ?? hub.token();
    const { today } = cli.values;
    const service = hub.serviceUrl();
    const hubUrl = cli.values['hub-url'] ?? (service && `${service}/v1/webhooks`);
    const sim = await startKredietbankSimulator({
      host,
      port,
      ...(hubUrl ? { hubWebhookUrl: hubUrl } : {}),
      ...(hubApiKey ? { hubApiKey } : {}),
      ...(token ? { token } : {}),
      ...(today ? { today } : {}),
      logger,
    });
    return { url: sim.baseUrl, close: sim.close };
  },
});
