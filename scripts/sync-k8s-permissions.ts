/**
 * Copies deploy/nats/permissions.conf into the `nats-config` ConfigMap of deploy/k8s/nats.yaml.
 * Kustomize may not read files outside deploy/k8s/, so the manifest holds a copy; run this after
 * every change of permissions.conf (test/deploy/k8s.test.ts fails until the copy matches).
 *
 *   npm run k8s:sync
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@ketenhub/kit';

const source = path.join(REPO_ROOT, 'deploy/nats/permissions.conf');
const manifest = path.join(REPO_ROOT, 'deploy/k8s/nats.yaml');
const KEY = '  permissions.conf: |';
const INDENT = '    ';

const lines = readFileSync(manifest, 'utf8').split('\n');
const start = lines.indexOf(KEY);
if (start < 0) {
  console.error(`k8s:sync: no "${KEY.trim()}" block in ${manifest}`);
  process.exit(1);
}
// The block scalar runs while lines are indented deeper than the key, or blank.
let end = start + 1;
while (end < lines.length && (lines[end] === '' || lines[end]!.startsWith(INDENT))) end++;
// Blank lines right before the next key belong to the file's layout, not the block.
while (end > start + 1 && lines[end - 1] === '') end--;

const copy = readFileSync(source, 'utf8')
  .trimEnd()
  .split('\n')
  .map((l) => (l.trim() === '' ? '' : INDENT + l));
lines.splice(start + 1, end - start - 1, ...copy);
writeFileSync(manifest, lines.join('\n'));
console.log(`k8s:sync: deploy/k8s/nats.yaml now holds ${path.relative(REPO_ROOT, source)}`);
