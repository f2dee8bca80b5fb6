export * from './nats.ts';
export * from './chain.ts';
