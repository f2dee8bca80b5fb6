/**
 * `npm run provision`: creates or updates the hub's JetStream streams to match the
 * configuration (retention from `streams.*`). Where NATS runs with per-service users
 * (deploy/nats/permissions.conf) the services may only read the streams, so this runs first, as
 * the provisioner, after every change of `streams.*`:
 *
 *   NATS_USER=provisioner NATS_PASSWORD=… npm run provision
 *
 * Without authentication (the local dev server) every service provisions at start and this is
 * not needed.
 */
import {
  STREAMS,
  connectNats,
  loadHubConfig,
  natsAuth,
  provisionStreams,
  streamLimits,
} from '@ketenhub/kit';

const config = loadHubConfig();
const auth = natsAuth(config);
const nc = await connectNats(config.nats.url, 'provisioner', auth);
try {
  await provisionStreams(nc, streamLimits(config));
  console.log(
    `provisioned ${Object.values(STREAMS).join(', ')} at ${config.nats.url}` +
      (auth.user ? ` as ${auth.user}` : ''),
  );
} catch (err) {
  console.error(`provision: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await nc.drain();
}
