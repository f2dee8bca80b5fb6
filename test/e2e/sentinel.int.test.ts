import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policies, schemas } from '@ketenhub/contracts';
import { connectNats, nameBasedUuid, publishEvent } from '@ketenhub/kit';
import { eventually, startTestChain, type TestChain } from '../harness/index.ts';

/**
 * The sentinel test: a chain event with a unique marker in every field it can carry is sent to
 * every partner that may receive its type; each partner's simulator must see exactly the
 * markers of the fields its policy allows, and none of the others.
 */
const GOLDEN = fileURLToPath(new URL('../../adapters/coa/fixtures/golden/', import.meta.url));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Dotted paths (array indices as [i]) of every string leaf. */
function stringLeaves(value: Json, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, `${prefix}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) =>
      stringLeaves(v, prefix ? `${prefix}.${k}` : k),
    );
  }
  return [];
}

function segments(path: string): (string | number)[] {
  return path
    .split(/\.|\[(\d+)\]/)
    .filter((s) => s !== undefined && s !== '')
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function getAt(root: Json, path: string): Json | undefined {
  return segments(path).reduce<Json | undefined>(
    (n, s) => (n === null || n === undefined ? undefined : (n as Record<string | number, Json>)[s]),
    root,
  );
}

function setAt(root: Json, path: string, value: Json): void {
  const segs = segments(path);
  const parent = segs
    .slice(0, -1)
    .reduce<Json>((n, s) => (n as Record<string | number, Json>)[s]!, root);
  (parent as Record<string | number, Json>)[segs.at(-1)!] = value;
}

/** Gives every string leaf a unique marker where the contract allows free text. */
function withSentinels(event: { type: string; data: Json }, tag: string): Map<string, string> {
  const markers = new Map<string, string>();
  let n = 0;
  for (const path of stringLeaves(event.data)) {
    const before = getAt(event.data, path);
    const marker = `SENTINEL${tag}X${n++}`;
    setAt(event.data, path, marker);
    if (schemas().validateEvent(event).length > 0) setAt(event.data, path, before!);
    else markers.set(path, marker);
  }
  // Constrained fields (codes, dates, ids) keep their values; they must be unique in the event
  // too, or the test could not tell where a value came from.
  for (const path of stringLeaves(event.data)) {
    if (!markers.has(path)) markers.set(path, getAt(event.data, path) as string);
  }
  return markers;
}

let chain: TestChain;
beforeAll(async () => {
  chain = await startTestChain();
});
afterAll(async () => {
  await chain?.stop();
});

describe('sentinel: each partner sees exactly the fields its policy allows', () => {
  const goldens = readdirSync(GOLDEN).filter((f) => f.endsWith('.expected.json'));

  for (const file of goldens) {
    it(file, async () => {
      const event = JSON.parse(readFileSync(GOLDEN + file, 'utf8')) as {
        id: string;
        type: string;
        source: string;
        gemeente: string;
        data: Json;
      };
      event.id = nameBasedUuid(`sentinel:${file}`);
      event.data = {
        ...(event.data as object),
        bron: { kanaal: 'coa-json', berichtId: 'bron-bericht' },
      } as Json;
      if (event.type.endsWith('overgedragen')) delete (event.data as Record<string, Json>).bron;
      const markers = withSentinels(event, String(goldens.indexOf(file)));
      expect(schemas().validateEvent(event)).toEqual([]);

      const receivers = [...policies().policies.values()].filter((p) => p.ontvangt[event.type]);
      expect(receivers.map((p) => p.partner)).toEqual(['gemeente-kvs']);

      const nc = await connectNats(chain.nats.url, 'sentinel');
      await publishEvent(jetstream(nc), event, JSON.stringify(event), { partner: 'coa' });
      await nc.drain();
      expect(
        await eventually(() => chain.kvs.received(event.gemeente).some((e) => e.id === event.id)),
      ).toBe(true);
      const seen = chain.kvs.received(event.gemeente).find((e) => e.id === event.id)!.event as {
        data: Json;
      };
      const seenText = JSON.stringify(seen.data);

      const allowed = Object.keys(receivers[0]!.ontvangt[event.type]!.velden);
      const isAllowed = (path: string) => {
        const plain = path.replace(/\[\d+\]/g, '');
        return allowed.some((a) => plain === a || plain.startsWith(`${a}.`));
      };
      for (const [path, marker] of markers) {
        if (isAllowed(path)) expect(getAt(seen.data, path), path).toBe(marker);
        else if (marker.startsWith('SENTINEL')) expect(seenText, path).not.toContain(marker);
        else expect(getAt(seen.data, path), path).toBeUndefined();
      }
    });
  }
});
