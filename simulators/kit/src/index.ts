export * from './faults.ts';
export * from './server.ts';
export * from './work.ts';
export * from './notifier.ts';
export * from './cli.ts';
export * from './hub.ts';
export * from './stats.ts';
export * from './testing.ts';
