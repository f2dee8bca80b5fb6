import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS } from '@ketenhub/kit';
import { eventually, startTestChain, type TestChain } from '../harness/index.ts';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../scripts/dlq.ts', import.meta.url));
const golden = JSON.parse(
  readFileSync(
    fileURLToPath(
      new URL(
        '../../adapters/coa/fixtures/golden/koppeling-hoofdpersoon.input.json',
        import.meta.url,
      ),
    ),
    'utf8',
  ),
) as Record<string, any>;

let chain: TestChain;
beforeAll(async () => {
  chain = await startTestChain();
});
afterAll(async () => {
  await chain?.stop();
});

async function dlq(...args: string[]): Promise<any> {
  const { stdout } = await run(process.execPath, [
    cli,
    ...args,
    '--json',
    '--nats',
    chain.nats.url,
  ]);
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('npm run dlq', () => {
  it('lists and shows dead letters without personal data, and replays them to the partner', async () => {
    chain.kvs.injectFault({ kind: 'status', status: 400, count: 2, scope: { gemeente: 'gm0797' } });
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await chain.coaPost('/v1/koppelingen', {
        ...golden,
        koppelingId: `KOP-DLQ-${i}`,
      });
      ids.push(((await res.json()) as { eventId: string }).eventId);
    }
    expect(await eventually(async () => (await chain.streamCount(STREAMS.deadLetters)) === 2)).toBe(
      true,
    );

    const listed = await dlq('list', '--gemeente', 'gm0797');
    expect(listed.count).toBe(2);
    expect(listed.deadLetters.map((l: { eventId: string }) => l.eventId).sort()).toEqual(
      [...ids].sort(),
    );
    expect(JSON.stringify(listed)).not.toContain(golden.persoon.bsn);
    expect(JSON.stringify(listed)).not.toContain(golden.persoon.achternaam);

    const shown = await dlq('show', String(listed.deadLetters[0].seq));
    expect(shown).toMatchObject({ partner: 'gemeente-kvs', gemeente: 'gm0797', attempts: 1 });
    expect(shown.original).not.toHaveProperty('body');

    expect((await dlq('list', '--partner', 'duo')).count).toBe(0);

    const replay = await dlq('replay', '--all');
    expect(replay.replayed).toHaveLength(2);
    expect(replay.failed).toEqual([]);
    expect(
      await eventually(() =>
        ids.every((id) => chain.kvs.received('gm0797').some((e) => e.id === id)),
      ),
    ).toBe(true);
    expect((await dlq('list')).count).toBe(0);
  });
});
