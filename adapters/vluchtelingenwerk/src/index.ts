export * from './aanvraag.ts';
export * from './begeleiding.ts';
export * from './module.ts';
export * from './routes.ts';
export * from './settings.ts';
export * from './translate.ts';
