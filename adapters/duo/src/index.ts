export * from './codes.ts';
export * from './duo-client.ts';
export * from './handlers.ts';
export * from './notificaties.ts';
export * from './rules.ts';
export * from './translate.ts';
export * from './zroute.ts';
export * from './module.ts';
