/**
 * A simulator main for cli.test.ts: a server with the kit's routes and an option of its own.
 * `--fail-start` makes start() throw, as a simulator refusing its configuration does. Its stats
 * show what it read from the hub configuration (partner `fixture`), flags winning.
 */

import { createFaultTable } from './faults.ts';
import { runSimulatorMain } from './cli.ts';
import { createSimApp, listenSim, registerSimRoutes } from './server.ts';

await runSimulatorMain({
  name: 'fixture-simulator',
  partner: 'fixture',
  usage: 'usage: cli-fixture.ts [--port 0] [--greeting hoi] [--hub-url URL] [--fail-start]',
  defaultPort: 0,
  options: {
    greeting: { type: 'string', default: 'hallo' },
    'hub-url': { type: 'string' },
    'fail-start': { type: 'boolean', default: false },
  },
  async start(cli, { host, port, logger, organisation, hub }) {
    if (cli.values['fail-start']) throw new Error('no such gemeente');
    const app = createSimApp();
    const greeting = cli.values.greeting;
    const read = {
      ...(organisation === undefined ? {} : { organisation }),
      ...(hub.config() ? { hubUrl: cli.values['hub-url'] ?? hub.serviceUrl() } : {}),
      ...(hub.token() ? { token: hub.token() } : {}),
      ...(hub.apiKey() ? { apiKey: hub.apiKey() } : {}),
    };
    registerSimRoutes(app, {
      stats: () => ({ received: 0, duplicates: 0, greeting, ...read }),
      reset: () => {},
      faults: createFaultTable(),
    });
    logger.info({ greeting }, 'fixture-simulator: starting');
    return listenSim(app, { host, port, name: 'fixture-simulator', logger });
  },
});
