/**
 * Chaos run: real processes on loopback, one fault per scenario, and a verdict from what the
 * partner simulator actually received: 2,000 koppelingen COA → KVS for the KVS scenarios, 300
 * PIPs or aanvragen (ontzorgen, a home, begeleiding) from the KVS for each partner service's pair
 * (its service killed, its partner down).
 *
 *   npm run chaos -- [--json] [--events 2000] [--partner-events 300] [--outage-seconds 60]
 *                    [--only service-killed,duo-service-killed] [--keep]
 *
 * Prints a table (to stderr with --json) and, as the last line on stdout, one JSON object
 * `{"scenarios":[...]}`. Exits 0 only when every scenario lost nothing and doubled nothing.
 * Scenarios and measurements: test/chaos/.
 */
import { parseArgs } from 'node:util';
import {
  SCENARIOS,
  runScenario,
  scenarioLimitMs,
  type ScenarioResult,
} from '../test/chaos/scenarios.ts';

const USAGE = `usage: npm run chaos -- [--json] [--events 2000] [--partner-events 300]
                      [--outage-seconds 60] [--only name[,name]] [--keep]
  --events          koppelingen COA sends in each KVS scenario (100 to 20000)
  --partner-events  PIPs or aanvragen the KVS sends in each partner scenario (50 to 1000)
  --outage-seconds  how long the partner is down in the *partner-down scenarios (5 to 600)
scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(30)} ${s.summary}`).join('\n')}`;

function fail(message: string): never {
  console.error(`chaos: ${message}\n${USAGE}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      events: { type: 'string', default: '2000' },
      'partner-events': { type: 'string', default: '300' },
      'outage-seconds': { type: 'string', default: '60' },
      only: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
} catch (err) {
  fail((err as Error).message);
}
if (args.help) {
  console.error(USAGE);
  process.exit(0);
}
const events = Number(args.events);
if (!Number.isInteger(events) || events < 100 || events > 20_000) {
  fail('--events must be an integer from 100 to 20000');
}
const partnerEvents = Number(args['partner-events']);
// One test BSN per PIP or aanvraag, and there are 1,000 of them.
if (!Number.isInteger(partnerEvents) || partnerEvents < 50 || partnerEvents > 1_000) {
  fail('--partner-events must be an integer from 50 to 1000');
}
const outageSeconds = Number(args['outage-seconds']);
if (!Number.isInteger(outageSeconds) || outageSeconds < 5 || outageSeconds > 600) {
  fail('--outage-seconds must be an integer from 5 to 600');
}
const outageMs = outageSeconds * 1_000;
const names = args.only?.split(',').map((s) => s.trim()) ?? SCENARIOS.map((s) => s.name);
for (const n of names) {
  if (!SCENARIOS.some((s) => s.name === n)) fail(`unknown scenario '${n}'`);
}
const chosen = SCENARIOS.filter((s) => names.includes(s.name));

// Human output goes to stderr with --json so stdout is the JSON line alone.
const say = (line: string): void => {
  if (args.json) console.error(line);
  else console.log(line);
};

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // The exit hooks of test/chaos kill every child and remove the temp dirs.
    interrupted = true;
    console.error(`chaos: ${signal}, stopping`);
    process.exit(130);
  });
}

const results: ScenarioResult[] = [];
const runStarted = Date.now();
for (const scenario of chosen) {
  say(`\n== ${scenario.name}: ${scenario.summary}`);
  // A watchdog past the scenario's own limit: should something hang that the scenario does
  // not see, the run still ends (the exit hooks clean up).
  const watchdog = setTimeout(
    () => {
      console.error(`chaos: ${scenario.name} exceeded its hard limit; giving up`);
      process.exit(1);
    },
    scenarioLimitMs(scenario, outageMs) + 60_000,
  );
  const result = await runScenario(scenario, {
    events,
    partnerEvents,
    outageMs,
    keep: args.keep,
    log: say,
  });
  clearTimeout(watchdog);
  results.push(result);
  say(
    `   ${result.ok ? 'ok' : 'FAILED'}: sent ${result.sent}, delivered ${result.delivered}, ` +
      `lost ${result.lost}, duplicated ${result.duplicated}, redeliveries ${result.redeliveries}, ` +
      `dead letters ${result.deadLetterMessages}, refused ${result.refused}, ` +
      `recovery ${result.recoverySeconds} s`,
  );
  for (const p of result.problems) say(`   problem: ${p}`);
  if (interrupted) break;
}

const columns: [string, (r: ScenarioResult) => string | number][] = [
  ['scenario', (r) => r.name],
  ['sent', (r) => r.sent],
  ['delivered', (r) => r.delivered],
  ['lost', (r) => r.lost],
  ['duplicated', (r) => r.duplicated],
  ['redeliveries', (r) => r.redeliveries],
  ['deadLettered', (r) => r.deadLettered],
  ['refused', (r) => r.refused],
  ['recovery s', (r) => r.recoverySeconds],
  ['fault s', (r) => r.faultSeconds],
  ['run s', (r) => r.durationSeconds],
  ['result', (r) => (r.ok ? 'ok' : 'FAILED')],
];
const rows = results.map((r) => columns.map(([, get]) => String(get(r))));
const widths = columns.map(([h], i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: string[]): string =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
say('');
say(line(columns.map(([h]) => h)));
for (const row of rows) say(line(row));
say(`\n${results.length} scenarios in ${Math.round((Date.now() - runStarted) / 1000)} s`);

console.log(
  JSON.stringify({
    scenarios: results.map((r) => ({
      name: r.name,
      flow: r.flow,
      sent: r.sent,
      delivered: r.delivered,
      lost: r.lost,
      duplicated: r.duplicated,
      redeliveries: r.redeliveries,
      recoverySeconds: r.recoverySeconds,
      deadLettered: r.deadLettered,
      deadLetterMessages: r.deadLetterMessages,
      misrouted: r.misrouted,
      unexpected: r.unexpected,
      refused: r.refused,
      fault: r.fault,
      faultSeconds: r.faultSeconds,
      durationSeconds: r.durationSeconds,
      resends: r.resends,
      ok: r.ok,
      problems: r.problems,
      notes: r.notes,
    })),
  }),
);
process.exit(results.length === chosen.length && results.every((r) => r.ok) ? 0 : 1);
