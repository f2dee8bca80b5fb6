// `@ketenhub/kit/operations`: what operators use (`npm run inzage`, `npm run dlq`, the admin
// service): the right of access, the flow overview, dead letters listed, shown and replayed, the
// latest alerts. No partner service imports this.
export * from './inzage.ts';
export * from './flow-overview.ts';
export * from './dead-letter-replay.ts';
export * from './latest-alerts.ts';
