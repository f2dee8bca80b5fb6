/**
 * Right of access (AVG art. 15) for a privacy officer:
 *   npm run inzage -- --bsn <bsn> [--vnummer <v-nummer>] [--gemeente gm0797] [--all] [--json]
 * Lists every disclosure of data about that person: which partner, when, under which processing
 * activity, for what purpose and on what legal basis, and which categories of data. `--all`
 * adds attempts that did not disclose (refused or failed). Then the hours the hub keeps to tell
 * DUO: per kind, each source's total and their sum. The BSN is turned into the hub's
 * pseudonym here and never sent anywhere: the processing log holds only pseudonyms.
 * Key: KETENHUB_PSEUDONYM_KEY (in development, the one `npm start` keeps in .tmp/), and during a
 * key rotation also KETENHUB_PSEUDONYM_KEY_PREVIOUS.
 * NATS: --nats <url>, else NATS_URL, else the running `npm start` chain, else the configured server
 * (started on its local store for the command when none answers).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { policies } from '@ketenhub/contracts';
import { connectNats, loadHubConfig, openUrenLedger, type UrenStand } from '@ketenhub/kit';
import { bsnProblem, normaliseVnummer } from '@ketenhub/kit/privacy';
import {
  disclosuresFor,
  inzageKeys,
  inzagePseudonyms,
  type DisclosureView,
} from '@ketenhub/kit/operations';
import { TMP, operatorNats } from './chain.ts';

const USAGE =
  'usage: npm run inzage -- --bsn <bsn> [--vnummer <v-nummer>] [--gemeente gm0797] [--all] [--json] [--nats url]';

function fail(message: string): never {
  console.error(`inzage: ${message}\n${USAGE}`);
  process.exit(2);
}

let opts;
try {
  opts = parseArgs({
    options: {
      bsn: { type: 'string' },
      vnummer: { type: 'string' },
      gemeente: { type: 'string', multiple: true },
      all: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      nats: { type: 'string' },
    },
  }).values;
} catch (err) {
  fail((err as Error).message);
}
if (!opts.bsn && !opts.vnummer)
  fail('give --bsn (and --vnummer when the person was known by it first)');
if (opts.bsn) {
  const problem = bsnProblem(opts.bsn);
  if (problem) fail(`--bsn ${problem}`);
}
let vnummer: string | undefined;
if (opts.vnummer) {
  try {
    vnummer = normaliseVnummer(opts.vnummer);
  } catch (err) {
    fail(`--vnummer: ${(err as Error).message}`);
  }
}
for (const g of opts.gemeente ?? [])
  if (!/^gm[0-9]{4}$/.test(g)) fail(`--gemeente ${g}: must look like gm0797`);

function pseudonymKey(): string {
  const fromEnv = process.env.KETENHUB_PSEUDONYM_KEY;
  if (fromEnv) return fromEnv;
  const devFile = join(TMP, 'dev-secrets.json');
  const dev = existsSync(devFile)
    ? (JSON.parse(readFileSync(devFile, 'utf8')) as Record<string, string>).KETENHUB_PSEUDONYM_KEY
    : undefined;
  if (!dev) fail('KETENHUB_PSEUDONYM_KEY is not set (and no development key in .tmp/)');
  return dev;
}

// During a key rotation records made under the previous key are still in the log.
const betrokkenen = inzagePseudonyms({ bsn: opts.bsn, vnummer }, inzageKeys(pseudonymKey()));

const server = await operatorNats(opts.nats);
const nc = await connectNats(server.url, 'inzage-cli');
let disclosures: DisclosureView[];
let uren: UrenStand[];
try {
  disclosures = await disclosuresFor(jetstream(nc), await jetstreamManager(nc), policies(), {
    betrokkenen,
    ...(opts.gemeente?.length ? { gemeenten: opts.gemeente } : {}),
    includeFailed: opts.all,
  });
  // Read by direct gets per gemeente (all the admin NATS user may do): the ones asked, else
  // every gemeente of the configuration.
  const gemeenten = opts.gemeente?.length
    ? opts.gemeente
    : loadHubConfig(undefined, {
        KETENHUB_PSEUDONYM_KEY: 'x'.repeat(32),
        ...process.env,
      }).gemeenten.map((g) => g.code);
  uren = await (await openUrenLedger(nc)).forPersons(betrokkenen, gemeenten);
} finally {
  await nc.drain();
  await server.stop();
}

if (opts.json) {
  console.log(JSON.stringify({ betrokkenen, count: disclosures.length, disclosures, uren }));
} else {
  console.log(`Verstrekkingen over deze persoon: ${disclosures.length}\n`);
  for (const d of disclosures) {
    console.log(`${d.tijdstip}  ${d.ontvanger.partner} (${d.ontvanger.endpoint})  ${d.status}`);
    console.log(`  activiteit  ${d.activiteit.id} ${d.activiteit.naam}`);
    console.log(`  doel        ${d.activiteit.doel}`);
    console.log(
      `  grondslag   ${d.activiteit.grondslag.wet}${d.activiteit.grondslag.avg ? `; AVG ${d.activiteit.grondslag.avg}` : ''}`,
    );
    console.log(
      `  gegevens    ${d.categorieen.map((c) => c.naam + (c.bijzonder ? ' (bijzonder)' : '')).join('; ')}`,
    );
    console.log(`  bericht     ${d.eventType} ${d.eventId}\n`);
  }
  if (uren.length > 0) {
    console.log(
      'Uren die de hub aan DUO doorgeeft (per soort: het totaal van elke bron, en de som):\n',
    );
    for (const u of uren) {
      console.log(`${u.gemeente}  ${u.soort}  ${u.totaal}`);
      for (const [bron, b] of Object.entries(u.bijdragen)) {
        console.log(`  ${bron.padEnd(32)} ${String(b.uren).padStart(5)}  (gemeld ${b.tijd})`);
      }
    }
  }
}
