export * from './nats.ts';
export * from './chain.ts';
export * from './duo-chain.ts';
