import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coaModule } from '@ketenhub/adapter-coa';
import { duoModule } from '@ketenhub/adapter-duo';
import { kvsModule } from '@ketenhub/adapter-gemeente-kvs';
import { kredietbankModule } from '@ketenhub/adapter-kredietbank';
import { taalaanbiederModule } from '@ketenhub/adapter-taalaanbieder';
import { adminModule } from '../../services/admin/module.ts';
import { PERMISSIONS } from './manifests.ts';

const modules = [
  coaModule(),
  kvsModule(),
  duoModule(),
  kredietbankModule(),
  taalaanbiederModule(),
  adminModule(),
];

/** The text of each `user: <name>` block of permissions.conf, up to the next user. */
function userBlocks(text: string): Map<string, string> {
  const blocks = new Map<string, string>();
  const parts = text.split(/^\s*user:\s*/m).slice(1);
  for (const part of parts) {
    const name = /^([\w-]+)/.exec(part)?.[1];
    if (name) blocks.set(name, part);
  }
  return blocks;
}

describe('partner modules and their NATS users', () => {
  const users = userBlocks(readFileSync(PERMISSIONS, 'utf8'));

  it.each(modules.map((m) => [m.id, m] as const))(
    '%s: its NATS user may read every KV bucket the module declares, and no other',
    (_id, module) => {
      const block = users.get(module.service);
      expect(block, `no user ${module.service} in permissions.conf`).toBeDefined();
      const readable = [...block!.matchAll(/\$JS\.API\.DIRECT\.GET\.KV_([A-Z_]+)\./g)].map(
        (m) => m[1],
      );
      expect([...new Set(readable)].sort()).toEqual([...module.stores].sort());
    },
  );

  it('gives every module its own service block and id', () => {
    expect(new Set(modules.map((m) => m.service)).size).toBe(modules.length);
    expect(new Set(modules.map((m) => m.id)).size).toBe(modules.length);
  });
});
