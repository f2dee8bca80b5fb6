/**
 * A simulator main for cli.test.ts: a server with the kit's routes and an option of its own.
 * `--fail-start` makes start() throw, as a simulator refusing its configuration does.
 */

import { createFaultTable } from './faults.ts';
import { runSimulatorMain } from './cli.ts';
import { createSimApp, listenSim, registerSimRoutes } from './server.ts';

await runSimulatorMain({
  name: 'fixture-simulator',
  usage: 'usage: cli-fixture.ts [--port 0] [--greeting hoi] [--fail-start]',
  defaultPort: 0,
  options: {
    greeting: { type: 'string', default: 'hallo' },
    'fail-start': { type: 'boolean', default: false },
  },
  async start(cli, { host, port, logger }) {
    if (cli.values['fail-start']) throw new Error('no such gemeente');
    const app = createSimApp();
    const greeting = cli.values.greeting;
    registerSimRoutes(app, {
      stats: () => ({ greeting }),
      reset: () => {},
      faults: createFaultTable(),
    });
    logger.info({ greeting }, 'fixture-simulator: starting');
    return listenSim(app, { host, port, name: 'fixture-simulator', logger });
  },
});
