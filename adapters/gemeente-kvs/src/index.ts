export * from './deliver.ts';
export * from './inbound.ts';
export * from './module.ts';
