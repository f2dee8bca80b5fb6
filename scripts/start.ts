/** `npm start`: the whole chain on this machine, until Ctrl-C. */
import { startChain } from './chain.ts';

const chain = await startChain({ log: (line) => console.log(line) });
const { info } = chain;
console.log(`
Ketenhub Inburgering is running.

  COA API (partner)        ${info.coa}/v1/koppelingen | /v1/overdrachten | /v1/tvs-export
  Admin API                ${info.admin}/api/… (key: adminApiKey in .tmp/chain.json)
  KVS inbound (partner)    ${info.kvsInbound}/v1/events
  DUO Notificatie API      ${info.duo}/notificaties
  Kredietbank webhooks     ${info.kredietbankWebhooks}
  School API (partner)     ${info.taalaanbiederApi}/v1/voortgang | /v1/uren | /v1/uren.csv | /v1/verzuim
  simulators               ${Object.entries(info.modules)
    .flatMap(([id, m]) =>
      Object.entries(m.simulators).map(
        ([who, url]) => `${who === id ? id : `${id} ${who}`} ${url}/_sim/stats | /_sim/faults`,
      ),
    )
    .join('\n                           ')}
  NATS                     ${info.nats}
  health                   ${Object.entries(info.health)
    .map(([k, v]) => `${k} ${v}`)
    .join('\n                           ')}
  metrics                  ${Object.entries(info.metrics)
    .map(([k, v]) => `${k} ${v}`)
    .join('\n                           ')}
  logs                     ${info.logs}
  gemeenten                ${info.gemeenten.map((g) => `${g.code} ${g.naam}`).join(', ')}

Try: npm run demo -- --inburgeraars 50
Stop with Ctrl-C.`);

let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  chain.stop().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
