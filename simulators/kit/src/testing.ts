/**
 * For a simulator's tests of its main.ts: run it as the scripts do, read the first stdout line
 * (its URL), and stop it with SIGTERM.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';

export interface SpawnedMain {
  /** The first line it printed on stdout. */
  firstLine: string;
  /** Everything it printed on stdout so far. */
  stdout(): string;
  /** Sends SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `node script ...args` (with `env`, default this process's); stderr is passed through.
 * Killed for good if it fails to start.
 */
export async function spawnMain(
  script: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<SpawnedMain> {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    ...(opts.env ? { env: opts.env } : {}),
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const early = exited.then((code) => {
    throw new Error(`${script} exited with ${code} before printing a line`);
  });
  // Only awaited until the first line: a later exit is stop()'s to report.
  early.catch(() => {});
  try {
    while (!out.includes('\n')) await Promise.race([once(child.stdout, 'data'), early]);
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw err;
  }
  return {
    firstLine: out.split('\n')[0] ?? '',
    stdout: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
