export * from './aanvraag.ts';
export * from './module.ts';
export * from './routes.ts';
export * from './translate.ts';
export * from './zoektocht.ts';
