/**
 * Runs the DUO simulator on its own:
 *
 *   node simulators/duo/src/main.ts --port 4320 \
 *     --gemeente 0797:00000001001234567000 --gemeente 0796:00000001001234568000 \
 *     --hub-url http://127.0.0.1:4302/v1 --hub-api-key-env KETENHUB_DUO_API_KEY
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
  usage: `usage: main.ts --gemeente 0797:<OIN> [--gemeente 0796:<OIN> ...] [--port 4320]
               [--host 127.0.0.1] [--oin ${DEFAULT_DUO_OIN}]
               [--hub-url http://127.0.0.1:4302/v1] [--hub-api-key-env VAR]
               [--spec-dir ../shared/reference/duo-m2m | --no-spec]
               [--processing-delay-ms 100] [--verbose]`,
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
  async start(cli, { host, port, logger }) {
    const args = cli.values;
    if (args.gemeente.length === 0) return cli.fail('at least one --gemeente CODE:OIN is required');
    const gemeenten: Record<string, string> = {};
    for (const pair of args.gemeente) {
      const [code, oin, ...rest] = pair.split(':');
      if (!code || !oin || rest.length > 0) {
        return cli.fail(`--gemeente '${pair}' must look like 0797:<20-digit OIN>`);
      }
      gemeenten[code.trim()] = oin.trim();
    }
    const hubApiKey = cli.fromEnv('hub-api-key-env');
    return startDuoSimulator({
      host,
      port,
      ...(args.oin === undefined ? {} : { oin: args.oin }),
      gemeenten,
      ...(args['hub-url'] === undefined ? {} : { hubNotificatieUrl: args['hub-url'] }),
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
