export * from './deliver.ts';
