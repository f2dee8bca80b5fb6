/**
 * A simulator's background work (a partner "processing" a message, a notification's next
 * attempt) as timers and running jobs it can wait for and cancel: tests wait until it is quiet
 * (`drain`), and reset/close drop it so nothing from before fires afterwards.
 */

export interface Work {
  schedule(delayMs: number, fn: () => Promise<void> | void): void;
  /** Resolves true once nothing is scheduled or running, false on timeout. */
  drain(timeoutMs: number): Promise<boolean>;
  pending(): number;
  /** Drops every scheduled job and aborts running ones (through `signal()`). */
  cancel(): void;
  /** Aborted by the next `cancel()`; a job takes it when it starts. */
  signal(): AbortSignal;
}

/** `onError` gets what a job threw; the job is not retried. */
export function createWork(onError: (err: unknown) => void): Work {
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let controller = new AbortController();

  function run(fn: () => Promise<void> | void): void {
    const p = (async () => {
      try {
        await fn();
      } catch (err) {
        onError(err);
      }
    })();
    running.add(p);
    void p.finally(() => running.delete(p));
  }

  return {
    schedule(delayMs, fn) {
      const generation = controller;
      const t = setTimeout(
        () => {
          timers.delete(t);
          if (generation === controller) run(fn);
        },
        Math.max(0, delayMs),
      );
      timers.add(t);
    },
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (timers.size > 0 || running.size > 0) {
        const left = deadline - Date.now();
        if (left <= 0) return false;
        await new Promise((r) => setTimeout(r, Math.min(10, left)));
      }
      return true;
    },
    pending: () => timers.size + running.size,
    cancel() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      controller.abort();
      controller = new AbortController();
    },
    signal: () => controller.signal,
  };
}
