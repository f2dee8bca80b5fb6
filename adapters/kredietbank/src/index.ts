export * from './handlers.ts';
export * from './kredietbank-client.ts';
export * from './translate.ts';
export * from './trajecten.ts';
export * from './webhooks.ts';
export * from './module.ts';
