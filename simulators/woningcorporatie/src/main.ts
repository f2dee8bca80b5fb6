/**
 * Runs one woningcorporatie simulator:
 *
 *   node simulators/woningcorporatie/src/main.ts --port 4390 [--organisation <id>]
 *     [--hub-url URL] [--hub-api-key-env VAR] [--token-env VAR] [--today YYYY-MM-DD] [--verbose]
 *
 * As `npm start` runs it (the module's `simulator` declaration, one process per corporatie):
 * with `--port`, `--organisation` and the hub configuration in KETENHUB_CONFIG, from which it
 * takes the token the hub presents (the corporatie's `endpoint.token`), the key it presents when
 * it answers (`credential.apiKey`) and the hub's corporatie API (`services.woningcorporatie`).
 * Flags win. Prints the base URL as the first line on stdout. The clock moves only by
 * `POST /_sim/clock {"advanceDays": 7}`.
 */
import { runSimulatorMain } from '@ketenhub/simulator-kit';
import { startWoningcorporatieSimulator } from './simulator.ts';

await runSimulatorMain({
  name: 'woningcorporatie-simulator',
  partner: 'woningcorporatie',
  usage: `usage: main.ts [--port 4390] [--host 127.0.0.1] [--organisation ID] [--hub-url URL]
               [--hub-api-key-env VAR] [--token-env VAR] [--today YYYY-MM-DD] [--verbose]
env: KETENHUB_CONFIG: the hub configuration, for what no flag gives`,
  defaultPort: 4390,
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
    return startWoningcorporatieSimulator({
      id: organisation ?? hub.organisation()?.id ?? 'woningcorporatie',
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
