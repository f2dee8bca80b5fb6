export * from './deliver.ts';
export * from './inbound.ts';
