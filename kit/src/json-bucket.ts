import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { InfrastructureError } from './errors.ts';

/** A NATS KV bucket holding one JSON value per key, with a TTL; every failure is retryable. */
export interface JsonBucket<T> {
  get(key: string): Promise<T | undefined>;
  put(key: string, value: T): Promise<void>;
  /** Writes the key only when it holds no value yet; false when it does (nothing written). */
  create(key: string, value: T): Promise<boolean>;
  delete(key: string): Promise<void>;
}

/**
 * Creates (or opens) the bucket. `what` names it in errors ("traject store unavailable"), so a
 * NATS outage is retried (InfrastructureError) rather than dead-lettered.
 */
export async function openJsonBucket<T>(
  nc: NatsConnection,
  opts: { bucket: string; what: string; description: string; ttlDays: number; replicas?: number },
): Promise<JsonBucket<T>> {
  const unavailable = (err: unknown) =>
    new InfrastructureError(`${opts.what} unavailable`, { cause: err });
  let kv: KV;
  try {
    kv = await new Kvm(nc).create(opts.bucket, {
      history: 1,
      ttl: opts.ttlDays * 24 * 60 * 60 * 1000,
      replicas: opts.replicas ?? 1,
      description: opts.description,
    });
  } catch (err) {
    throw unavailable(err);
  }
  return {
    async get(key) {
      try {
        const entry = await kv.get(key);
        if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
        return entry.json<T>();
      } catch (err) {
        throw unavailable(err);
      }
    },
    async put(key, value) {
      try {
        await kv.put(key, JSON.stringify(value));
      } catch (err) {
        throw unavailable(err);
      }
    },
    async create(key, value) {
      try {
        await kv.create(key, JSON.stringify(value));
        return true;
      } catch (err) {
        if (/wrong last sequence|key exists/i.test((err as Error).message)) return false;
        throw unavailable(err);
      }
    },
    async delete(key) {
      try {
        await kv.delete(key);
      } catch (err) {
        throw unavailable(err);
      }
    },
  };
}
