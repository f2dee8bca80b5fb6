/**
 * Runs the KVS simulator on its own:
 *
 *   node simulators/gemeente-kvs/src/main.ts --port 4310 --gemeenten gm0797,gm0363
 *
 * or, as `npm start` runs it, with only `--port` and the hub configuration in KETENHUB_CONFIG:
 * the gemeenten it serves are the configuration's, and the bearer token the hub presents to a
 * gemeente's KVS is that organisation's `partners.gemeente-kvs.organisations[].endpoint.token`.
 * Flags win: --gemeenten over the configuration, and tokens from KVS_SIM_TOKENS
 * (`gm0797=secret,gm0363=other`, out of the process list) or --token (for quick local runs)
 * over the configuration's, per gemeente.
 *
 * Prints the base URL as the first line on stdout (scripts read it) and logs to stderr
 * (warnings; everything with --verbose).
 */

import { deliveryViolations } from '@ketenhub/contracts';
import { runSimulatorMain } from '@ketenhub/simulator-kit';
import { KVS_PARTNER } from '@ketenhub/adapter-gemeente-kvs';
import { startKvsSimulator } from './kvs-simulator.ts';

await runSimulatorMain({
  name: 'kvs-simulator',
  partner: 'gemeente-kvs',
  usage: `usage: main.ts [--gemeenten gm0797,gm0363] [--port 4310] [--host 127.0.0.1]
               [--token gm0797=secret ...] [--max-events 200000] [--verbose]
env: KVS_SIM_TOKENS=gm0797=secret,gm0363=other
     KETENHUB_CONFIG: the hub configuration, for the gemeenten and tokens no flag gives`,
  defaultPort: 4310,
  options: {
    gemeenten: { type: 'string' },
    token: { type: 'string', multiple: true, default: [] },
    'max-events': { type: 'string' },
  },
  async start(cli, { host, port, logger, hub }) {
    const gemeenten =
      cli.values.gemeenten ??
      hub
        .config()
        ?.gemeenten.map((g) => g.code)
        .join(',') ??
      cli.fail('--gemeenten is required without a hub configuration (KETENHUB_CONFIG)');
    const tokens: Record<string, string> = {};
    // The configuration's tokens, each for the gemeenten its organisation serves.
    for (const o of hub.organisations()) {
      if (o.endpoint?.token) for (const g of o.gemeenten ?? []) tokens[g] = o.endpoint.token;
    }
    const envTokens = (process.env.KVS_SIM_TOKENS ?? '').split(',').filter((s) => s.trim() !== '');
    for (const pair of [...envTokens, ...cli.values.token]) {
      const eq = pair.indexOf('=');
      if (eq <= 0) cli.fail(`token '${pair.slice(0, 8)}…' must look like gm0797=secret`);
      tokens[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
    }
    return startKvsSimulator({
      host,
      port,
      gemeenten: gemeenten
        .split(',')
        .map((g) => g.trim().toLowerCase())
        .filter((g) => g !== ''),
      tokens,
      maxEvents: cli.integer('max-events', 200_000),
      // Strict like a real KVS: anything off the delivery contract is refused with 400.
      validate: (event) => deliveryViolations(KVS_PARTNER, event),
      logger,
    });
  },
});
