export * from './aanmelding.ts';
export * from './routes.ts';
export * from './traject.ts';
export * from './translate.ts';
export * from './uren-csv.ts';
export * from './module.ts';
