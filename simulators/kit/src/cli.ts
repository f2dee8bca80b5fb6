/**
 * The command line of a simulator: options parsed with node:util parseArgs, a usage error
 * answered with the usage and exit code 2, `--help` with the usage and 0. `runSimulatorMain`
 * adds what every simulator server does: `--port`, `--host`, `--organisation` and `--verbose`,
 * the hub configuration of `KETENHUB_CONFIG` for what no flag gives (`hub`, see hub.ts), the URL
 * as the first line on stdout (scripts and the bench read it), logs on stderr, and a clean stop
 * on SIGINT/SIGTERM.
 *
 * One contract for every simulator `npm start` runs (a module's `simulator` declaration): it is
 * started with `--port` and, one per organisation, `--organisation <id>`, and reads the rest
 * from the configuration; its explicit flags, as compose and the chaos hub give them, win.
 */

import { parseArgs } from 'node:util';
import type { ParseArgsOptionsConfig } from 'node:util';
import { createLogger, stopOnSignals } from '@ketenhub/kit';
import { createSimulatorHub, type SimulatorHub } from './hub.ts';
import type { SimulatorLogger } from './server.ts';

type Values<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>
>['values'];

export interface CliSpec<O extends ParseArgsOptionsConfig> {
  /** Starts every error line, e.g. `kvs-simulator`. */
  name: string;
  usage: string;
  /** `help` (`-h`) is added. */
  options: O;
  /** Default `process.argv.slice(2)`. */
  args?: string[];
}

export interface Cli<O extends ParseArgsOptionsConfig> {
  values: Values<O>;
  /** Prints the message and the usage on stderr and exits 2. */
  fail(message: string): never;
  /** The option as a whole number in [min, max]; `fallback` when absent; else fails. */
  integer(option: string, fallback: number, range?: { min?: number; max?: number }): number;
  /**
   * The value of the environment variable an option names (a secret stays out of the process
   * list); fails when it is empty or unset, unless `optional` (then undefined).
   */
  fromEnv(option: string, opts?: { optional?: boolean }): string | undefined;
}

export function parseCli<O extends ParseArgsOptionsConfig>(spec: CliSpec<O>): Cli<O> {
  const fail = (message: string): never => {
    console.error(`${spec.name}: ${message}\n${spec.usage}`);
    process.exit(2);
  };
  let parsed: Record<string, unknown>;
  try {
    parsed = parseArgs({
      args: spec.args ?? process.argv.slice(2),
      options: { ...spec.options, help: { type: 'boolean', short: 'h', default: false } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    return fail((err as Error).message);
  }
  if (parsed.help === true) {
    console.error(spec.usage);
    process.exit(0);
  }
  return {
    values: parsed as Values<O>,
    fail,
    integer(option, fallback, range = {}) {
      const raw = parsed[option];
      if (raw === undefined) return fallback;
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      const min = range.min ?? 0;
      const max = range.max ?? Number.MAX_SAFE_INTEGER;
      if (!Number.isInteger(n) || n < min || n > max) {
        return fail(`--${option} must be a whole number from ${min} to ${max}`);
      }
      return n;
    },
    fromEnv(option, opts = {}) {
      const name = parsed[option];
      if (typeof name !== 'string') return undefined;
      const value = process.env[name];
      if (value) return value;
      if (opts.optional) return undefined;
      return fail(`environment variable ${name} is empty or not set`);
    },
  };
}

const COMMON_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  organisation: { type: 'string' },
  verbose: { type: 'boolean', default: false },
} as const;

export interface RunningSimulator {
  /** Printed as the first line on stdout: what a caller points the hub at. */
  url: string;
  close(): Promise<void>;
}

export interface SimulatorMainSpec<O extends ParseArgsOptionsConfig> {
  name: string;
  /** The partner module it stands in for: its `partners.<id>` block in the hub configuration. */
  partner: string;
  usage: string;
  /** `--port` when not given. */
  defaultPort: number;
  /**
   * The simulator's own options; `port`, `host`, `organisation`, `verbose` and `help` are
   * added.
   */
  options: O;
  args?: string[];
  /** Starts the simulator; a throw is a usage error (exit 2). */
  start(cli: Cli<O & typeof COMMON_OPTIONS>, ctx: SimulatorContext): Promise<RunningSimulator>;
}

export interface SimulatorContext {
  host: string;
  port: number;
  logger: SimulatorLogger;
  /** `--organisation`: the organisation of `partners.<id>` this process plays. */
  organisation: string | undefined;
  /** The hub configuration, for what no flag gives; flags win. */
  hub: SimulatorHub;
}

export async function runSimulatorMain<O extends ParseArgsOptionsConfig>(
  spec: SimulatorMainSpec<O>,
): Promise<RunningSimulator> {
  const cli = parseCli({
    name: spec.name,
    usage: spec.usage,
    options: { ...spec.options, ...COMMON_OPTIONS },
    ...(spec.args ? { args: spec.args } : {}),
  });
  const port = cli.integer('port', spec.defaultPort, { max: 65_535 });
  // parseArgs's result type does not resolve for a generic O; these are COMMON_OPTIONS.
  const { host, verbose, organisation } = cli.values as unknown as {
    host: string;
    verbose: boolean;
    organisation?: string;
  };
  const hub = createSimulatorHub({
    partner: spec.partner,
    ...(organisation === undefined ? {} : { organisation }),
    fail: cli.fail,
  });
  // Warnings always, the rest with --verbose; on stderr, since stdout carries the URL.
  const logger = createLogger(spec.name, {
    level: verbose ? 'info' : 'warn',
    destination: process.stderr,
  });
  let sim: RunningSimulator;
  try {
    sim = await spec.start(cli, { host, port, logger, organisation, hub });
  } catch (err) {
    return cli.fail((err as Error).message);
  }
  // The stop handler first: whoever reads the URL may stop the simulator at once, and a SIGTERM
  // before the handler would kill it without closing (exit by signal, not 0).
  stopOnSignals(() => sim.close(), logger);
  process.stdout.write(`${sim.url}\n`);
  return sim;
}
