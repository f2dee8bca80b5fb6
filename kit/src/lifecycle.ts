import type { Logger } from './log.ts';

/**
 * Runs `stop` once on SIGINT or SIGTERM, then exits: 0 when it finished, 1 when it threw or
 * took longer than `graceMs` (a stuck shutdown must not leave a process behind).
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger, graceMs = 10_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
