/**
 * Runs the DUO simulator on its own:
 *
 *   node simulators/duo/src/main.ts --port 4320 \
 *     --gemeente 0797:00000001001234567000 --gemeente 0796:00000001001234568000 \
 *     --hub-url http://127.0.0.1:4302/v1 --hub-api-key-env KETENHUB_DUO_API_KEY
 *
 * or, as `npm start` runs it, with only `--port` and the hub configuration in KETENHUB_CONFIG:
 * DUO's OIN from `partners.duo.settings.oin`, the gemeenten and their OINs from `gemeenten`,
 * the hub's Notificatie API from `services.duo` (+ `/v1`) and DUO's key there from
 * `partners.duo.credential.apiKey`. Flags win over the configuration.
 *
 * Prints the base URL as the first line on stdout (scripts read it; the hub's DUO adapter
 * points at that URL + `/v1`) and logs to stderr (warnings, such as running without the spec
 * files; everything with --verbose). The hub's API key is read from the environment variable
 * named by --hub-api-key-env so it stays out of the process list.
 */

import { runSimulatorMain } from '@ketenhub/simulator-kit';
import { DEFAULT_DUO_OIN, startDuoSimulator } from './duo-simulator.ts';

await runSimulatorMain({
  name: 'duo-simulator',
  partner: 'duo',
  usage: `usage: main.ts --gemeente 0797:<OIN> [--gemeente 0796:<OIN> ...] [--port 4320]
               [--host 127.0.0.1] [--oin ${DEFAULT_DUO_OIN}]
               [--hub-url http://127.0.0.1:4302/v1] [--hub-api-key-env VAR]
               [--spec-dir ../shared/reference/duo-m2m | --no-spec]
               [--processing-delay-ms 100] [--verbose]
env: KETENHUB_CONFIG: the hub configuration, for what no flag gives`,
  defaultPort: 4320,
  options: {
    oin: { type: 'string' },
    gemeente: { type: 'string', multiple: true, default: [] },
    'hub-url': { type: 'string' },
    'hub-api-key-env': { type: 'string' },
    'spec-dir': { type: 'string' },
    'no-spec': { type: 'boolean', default: false },
    'processing-delay-ms': { type: 'string' },
  },
  async start(cli, { host, port, logger, hub }) {
    const args = cli.values;
    const pairs =
      args.gemeente.length > 0
        ? args.gemeente
        : (hub.config()?.gemeenten.map((g) => `${g.code.replace(/^gm/, '')}:${g.oin}`) ?? []);
    if (pairs.length === 0) {
      return cli.fail(
        'at least one --gemeente CODE:OIN is required without a hub configuration (KETENHUB_CONFIG)',
      );
    }
    const gemeenten: Record<string, string> = {};
    for (const pair of pairs) {
      const [code, oin, ...rest] = pair.split(':');
      if (!code || !oin || rest.length > 0) {
        return cli.fail(`--gemeente '${pair}' must look like 0797:<20-digit OIN>`);
      }
      gemeenten[code.trim()] = oin.trim();
    }
    const oin = args.oin ?? hub.settings<{ oin?: string }>()?.oin;
    const hubUrl = args['hub-url'] ?? withPath(hub.serviceUrl(), '/v1');
    const hubApiKey = cli.fromEnv('hub-api-key-env') ?? hub.apiKey();
    return startDuoSimulator({
      host,
      port,
      ...(oin === undefined ? {} : { oin }),
      gemeenten,
      ...(hubUrl === undefined ? {} : { hubNotificatieUrl: hubUrl }),
      ...(hubApiKey === undefined ? {} : { hubApiKey }),
      ...(args['no-spec']
        ? { specDir: false as const }
        : args['spec-dir'] === undefined
          ? {}
          : { specDir: args['spec-dir'] }),
      processingDelayMs: cli.integer('processing-delay-ms', 100),
      logger,
    });
  },
});

function withPath(base: string | undefined, path: string): string | undefined {
  return base === undefined ? undefined : `${base}${path}`;
}
