/**
 * Retry schedule of a partner: the delay before attempt n+1 after attempt n failed, and when
 * to give up. The consumer's max_deliver is derived from it (maxAttempts + 1) so the server
 * never silently stops redelivering before runService has dead-lettered the message.
 */
export interface BackoffPolicy {
  /** Delays in ms; attempt n (1-based) waits delaysMs[n-1], the last one repeats. */
  delaysMs: number[];
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  delaysMs: [1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000],
  maxAttempts: 20,
};

export function delayFor(policy: BackoffPolicy, attempt: number, retryAfterMs?: number): number {
  const base = policy.delaysMs[Math.min(attempt, policy.delaysMs.length) - 1] ?? 1_000;
  // Up to 20% jitter so a recovering partner is not hit by every consumer at the same moment.
  const jittered = Math.round(base * (1 + Math.random() * 0.2));
  return Math.max(jittered, retryAfterMs ?? 0);
}

export function maxDeliverFor(policy: BackoffPolicy): number {
  return policy.maxAttempts + 1;
}
