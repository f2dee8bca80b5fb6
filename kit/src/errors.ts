/**
 * Error classes of the hub. Callers decide on `name` and `retryable`, never on `instanceof`
 * across packages (two copies of a package would make `instanceof` lie).
 *
 * `retryable` decides what runService does with a failed message: true → nak with a delay
 * from the backoff policy; false → dead letter.
 */

import type { Violation } from '@ketenhub/contracts';

export type { Violation };

export interface HubErrorOptions {
  cause?: unknown;
  /** Field (JSON pointer or dotted path) the error is about, when there is one. */
  field?: string;
  /** The rule that was broken, in words a partner can act on. */
  rule?: string;
}

/** Kinds of operator alert a failed message raises beside its dead letter (kit/src/alerts.ts). */
export type AlertKind =
  'retries-exhausted' | 'unknown-notification' | 'partner-version' | 'tenant-mismatch';

export abstract class HubError extends Error {
  abstract readonly retryable: boolean;
  /** HTTP status this error maps to when it reaches an HTTP edge. */
  abstract readonly status: number;
  readonly field?: string;
  readonly rule?: string;
  /** When set, a consumer that dead-letters this error also raises an alert of this kind. */
  readonly alert?: AlertKind;

  constructor(message: string, options: HubErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.field !== undefined) this.field = options.field;
    if (options.rule !== undefined) this.rule = options.rule;
  }
}

/** Input does not satisfy a contract (schema or business rule). Never retried. */
export class ValidationError extends HubError {
  override readonly name = 'ValidationError';
  readonly retryable = false;
  readonly status = 400;
  readonly violations: Violation[];

  constructor(message: string, violations: Violation[], options: HubErrorOptions = {}) {
    super(message, { field: violations[0]?.field, rule: violations[0]?.rule, ...options });
    this.violations = violations;
  }
}

/** The caller is not who it claims to be (missing or wrong credential). */
export class AuthenticationError extends HubError {
  override readonly name = 'AuthenticationError';
  readonly retryable = false;
  readonly status = 401;
}

/** The caller is known but may not do this (e.g. a KVS key for another gemeente). */
export class ForbiddenError extends HubError {
  override readonly name = 'ForbiddenError';
  readonly retryable = false;
  readonly status = 403;
}

/**
 * A partner acted on a person the hub knows for another gemeente (or as another gemeente than
 * the message's own): refused, dead-lettered and reported to the operators, never executed.
 * Raised by the kit's person register, so no handler can forget it (docs/security.md).
 */
export class TenantMismatchError extends HubError {
  override readonly name = 'TenantMismatchError';
  readonly retryable = false;
  readonly status = 403;
  override readonly alert = 'tenant-mismatch' as const;
}

/**
 * The message is about a person the hub does not know for its gemeente (no koppeling, no
 * vestiging, no DUO notification), after waiting for one. Dead-lettered, replayable once the
 * person is known.
 */
export class PersonUnknownError extends HubError {
  override readonly name = 'PersonUnknownError';
  readonly retryable = false;
  readonly status = 404;
}

/**
 * The partner sent an id the hub already accepted, with other content: answered 409, never
 * silently dropped. The partner sends a change under a new id (or as a change event).
 */
export class ConflictError extends HubError {
  override readonly name = 'ConflictError';
  readonly retryable = false;
  readonly status = 409;
}

/** The message is larger than the hub can store (the stream's maximum): never retried. */
export class PayloadTooLargeError extends HubError {
  override readonly name = 'PayloadTooLargeError';
  readonly retryable = false;
  readonly status = 413;
}

/** A partner refused the message for good (4xx other than 408/429). Dead-lettered. */
export class PartnerRejectedError extends HubError {
  override readonly name = 'PartnerRejectedError';
  readonly retryable = false;
  readonly status = 502;
  readonly partnerStatus: number;

  constructor(message: string, partnerStatus: number, options: HubErrorOptions = {}) {
    super(message, options);
    this.partnerStatus = partnerStatus;
  }
}

/**
 * A partner could not take the message now: timeout, connection refused, 5xx, 408, 429, or the
 * circuit breaker is open. Retried with backoff; `retryAfterMs` honours a Retry-After header.
 */
export class PartnerUnavailableError extends HubError {
  override readonly name = 'PartnerUnavailableError';
  readonly retryable = true;
  readonly status = 503;
  readonly retryAfterMs?: number;
  readonly partnerStatus?: number;

  constructor(
    message: string,
    options: HubErrorOptions & { retryAfterMs?: number; partnerStatus?: number } = {},
  ) {
    super(message, options);
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.partnerStatus !== undefined) this.partnerStatus = options.partnerStatus;
  }
}

/** A dependency inside the hub (NATS, the processing log) failed; retried. */
export class InfrastructureError extends HubError {
  override readonly name = 'InfrastructureError';
  readonly retryable = true;
  readonly status = 503;
}

/**
 * The message needs one that has not been processed yet (a vestiging before the koppeling that
 * introduced the person). Retried with backoff; dead-lettered with an alert when the retries
 * run out, because then the earlier message is not coming.
 */
export class OutOfOrderError extends HubError {
  override readonly name = 'OutOfOrderError';
  readonly retryable = true;
  readonly status = 409;
}

/** Configuration is invalid; the process must not start. */
export class ConfigError extends HubError {
  override readonly name = 'ConfigError';
  readonly retryable = false;
  readonly status = 500;
}

/** True when the error (of any origin) should be retried. Unknown errors are retried. */
export function isRetryable(err: unknown): boolean {
  if (err !== null && typeof err === 'object' && 'retryable' in err) {
    return (err as { retryable: unknown }).retryable === true;
  }
  return true;
}
