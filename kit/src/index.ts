// `@ketenhub/kit`: the runtime every service needs (config, NATS, the runner, the edge, the
// partner client, events, errors, logs, metrics). The other concerns have entries of their own,
// so a service loads only what it uses: `@ketenhub/kit/privacy`, `/operations`, `/processes`,
// `/testing`, `/deploy` (docs/adr/0014-kit-entries.md). Runtime files may import privacy files
// they need (the runner opens the person register); this entry just does not export them.
export * from './errors.ts';
export * from './config.ts';
export * from './hub-config.ts';
export * from './nats.ts';
export * from './module.ts';
export * from './run-service.ts';
export * from './backoff.ts';
export * from './dead-letter.ts';
export * from './alerts.ts';
export * from './http-edge.ts';
export * from './api-key-hash.ts';
export * from './inbound.ts';
export * from './outbound.ts';
export * from './csv.ts';
export * from './partner-client.ts';
export * from './publisher.ts';
export * from './json-bucket.ts';
export * from './uren-ledger.ts';
export * from './json-walk.ts';
export * from './events.ts';
export * from './ids.ts';
export * from './trace.ts';
export * from './log.ts';
export * from './metrics.ts';
export * from './ops-server.ts';
export * from './lifecycle.ts';
