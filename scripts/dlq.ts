/**
 * Dead letters for operators:
 *   npm run dlq -- list   [--service s] [--partner p] [--gemeente gm0797] [--type t] [--json]
 *   npm run dlq -- show   <seq> [--json]
 *   npm run dlq -- replay <seq> [<seq> ...] | --all | <filters>   [--json]
 *   npm run dlq -- alerts [--json]   (the most recent operator alerts, newest last)
 * NATS: --nats <url>, else NATS_URL, else the running `npm start` chain, else the configured server
 * (started on its local store for the command when none answers).
 * Output names ids, partners and reasons, never message bodies: those hold personal data.
 */
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connectNats } from '@ketenhub/kit';
import {
  getDeadLetter,
  latestAlerts,
  listDeadLetters,
  publicDeadLetter,
  replayDeadLetter,
  type StoredDeadLetter,
} from '@ketenhub/kit/operations';
import { operatorNats } from './chain.ts';

const USAGE = `usage: npm run dlq -- list|show|replay|alerts [seq ...] [--all] [--service s] [--partner p]
                       [--gemeente gm0797] [--type t] [--json] [--nats url]`;

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    service: { type: 'string' },
    partner: { type: 'string' },
    gemeente: { type: 'string' },
    type: { type: 'string' },
    all: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    nats: { type: 'string' },
  },
});
const [command, ...rest] = positionals;
if (!command || !['list', 'show', 'replay', 'alerts'].includes(command)) {
  console.error(USAGE);
  process.exit(2);
}
const seqs = rest.map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`not a dead-letter sequence number: ${s}`);
    process.exit(2);
  }
  return n;
});
const filter = {
  ...(opts.service ? { service: opts.service } : {}),
  ...(opts.partner ? { partner: opts.partner } : {}),
  ...(opts.gemeente ? { gemeente: opts.gemeente } : {}),
  ...(opts.type ? { eventType: opts.type } : {}),
};

const server = await operatorNats(opts.nats);
const nc = await connectNats(server.url, 'dlq-cli');
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);

/** One line per letter: what an operator needs to decide, nothing personal. */
function summary(l: StoredDeadLetter): string {
  return [
    String(l.seq).padStart(6),
    l.deadLetteredAt.slice(0, 19),
    l.service,
    l.gemeente ?? '-',
    l.eventType ?? '-',
    l.eventId ?? '-',
    `attempts ${l.attempts}`,
    l.reason.slice(0, 120),
  ].join('  ');
}

function progress(done: number, total: number): void {
  if (!process.stderr.isTTY || opts.json) return;
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  if (done === total) process.stderr.write('\n');
}

try {
  if (command === 'list') {
    const letters = await listDeadLetters(js, jsm, filter);
    if (opts.json)
      console.log(
        JSON.stringify({ count: letters.length, deadLetters: letters.map(publicDeadLetter) }),
      );
    else {
      for (const l of letters) console.log(summary(l));
      console.log(`${letters.length} dead letter(s)`);
    }
  } else if (command === 'alerts') {
    const alerts = await latestAlerts(jsm, { limit: 100 });
    if (opts.json) console.log(JSON.stringify({ count: alerts.length, alerts }));
    else {
      for (const a of alerts) {
        console.log(
          `${String(a.at).slice(0, 19)}  ${a.kind}  ${a.service}  ${a.gemeente ?? '-'}  ${a.eventId ?? '-'}  ${a.reason}`,
        );
      }
      console.log(`${alerts.length} alert(s)`);
    }
  } else if (command === 'show') {
    if (seqs.length !== 1) throw new Error('show takes one sequence number');
    const letter = await getDeadLetter(jsm, seqs[0]!);
    if (!letter) throw new Error(`no dead letter ${seqs[0]}`);
    console.log(
      opts.json
        ? JSON.stringify(publicDeadLetter(letter))
        : JSON.stringify(publicDeadLetter(letter), null, 2),
    );
  } else {
    let letters: StoredDeadLetter[];
    if (seqs.length > 0) {
      letters = [];
      for (const seq of seqs) {
        const l = await getDeadLetter(jsm, seq);
        if (!l) throw new Error(`no dead letter ${seq}`);
        letters.push(l);
      }
    } else if (opts.all || Object.keys(filter).length > 0) {
      letters = await listDeadLetters(js, jsm, filter);
    } else {
      throw new Error('replay what? give sequence numbers, a filter, or --all');
    }
    const replayed: number[] = [];
    const failed: { seq: number; error: string }[] = [];
    for (const l of letters) {
      try {
        await replayDeadLetter(js, jsm, l);
        replayed.push(l.seq);
      } catch (err) {
        failed.push({ seq: l.seq, error: (err as Error).message });
      }
      progress(replayed.length + failed.length, letters.length);
    }
    if (opts.json) console.log(JSON.stringify({ replayed, failed }));
    else {
      console.log(`replayed ${replayed.length} of ${letters.length}`);
      for (const f of failed) console.log(`  ${f.seq}: ${f.error}`);
    }
    process.exitCode = failed.length > 0 ? 1 : 0;
  }
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  await nc.drain();
  await server.stop();
}
