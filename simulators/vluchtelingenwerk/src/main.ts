/**
 * Runs one VluchtelingenWerk office simulator:
 *
 *   node simulators/vluchtelingenwerk/src/main.ts --port 4360 [--organisation <id>]
 *     [--hub-url URL] [--hub-api-key-env VAR] [--token-env VAR] [--today YYYY-MM-DD] [--verbose]
 *
 * As `npm start` runs it (the module's `simulator` declaration, one process per office): with
 * `--port`, `--organisation` and the hub configuration in KETENHUB_CONFIG, from which it takes
 * the token the hub presents (the office's `endpoint.token`), the key it presents when it
 * reports (`credential.apiKey`) and the hub's office API (`services.vluchtelingenwerk`). Flags
 * win. Prints the base URL as the first line on stdout. The clock moves only by
 * `POST /_sim/clock {"advanceDays": 7}`.
 */
import { runSimulatorMain } from '@ketenhub/simulator-kit';
import { startVluchtelingenwerkSimulator } from './simulator.ts';

await runSimulatorMain({
  name: 'vluchtelingenwerk-simulator',
  partner: 'vluchtelingenwerk',
  usage: `usage: main.ts [--port 4360] [--host 127.0.0.1] [--organisation ID] [--hub-url URL]
               [--hub-api-key-env VAR] [--token-env VAR] [--today YYYY-MM-DD] [--verbose]
env: KETENHUB_CONFIG: the hub configuration, for what no flag gives`,
  defaultPort: 4360,
  options: {
    'hub-url': { type: 'string' },
    'hub-api-key-env': { type: 'string' },
    'token-env': { type: 'string' },
    today: { type: 'string' },
  },
  async start(cli, { host, port, logger, hub, organisation }) {
    const hubApiKey = cli.fromEnv('hub-api-key-env') ?? hub.apiKey();
    const token = cli.fromEnv('token-env', { optional: true }) ?? hub.token();
    const hubUrl = cli.values['hub-url'] ?? hub.serviceUrl();
    const { today } = cli.values;
    return startVluchtelingenwerkSimulator({
      id: organisation ?? hub.organisation()?.id ?? 'vluchtelingenwerk',
      host,
      port,
      logger,
      ...(token ? { token } : {}),
      ...(hubUrl ? { hubUrl } : {}),
      ...(hubApiKey ? { hubApiKey } : {}),
      ...(today ? { today } : {}),
    });
  },
});
