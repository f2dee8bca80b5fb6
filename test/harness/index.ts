export * from './nats.ts';
export * from './chain.ts';
export * from './duo-chain.ts';
export * from './taalaanbieder-chain.ts';
export * from './kredietbank-chain.ts';
