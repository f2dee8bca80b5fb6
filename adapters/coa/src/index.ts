export * from './translate.ts';
export * from './tvs-csv.ts';
export * from './routes.ts';
export * from './module.ts';
