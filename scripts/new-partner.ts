/**
 * Writes a new partner module: the adapter with its module, translation, delivery, golden case
 * and conformance test; its simulator; its service; its contract and its policy with its own
 * register entry (scripts/new-partner/template/). Of the existing files it changes only the two
 * registration points: the module's line in scripts/modules.ts, and package-lock.json when it
 * links the new workspaces (npm install). Its contract types are a file of their own
 * (contracts/src/generated/<id>.ts, from `npm run contracts:gen`), and the catalogue of who
 * receives what is read from its policy (`npm run contracts:catalogue`). The new module passes
 * `npm test` as written.
 *
 *   npm run new:partner -- <id>          # e.g. voorbeeld, woningcorporatie
 *   npm run new:partner -- <id> --dry-run
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';

const TEMPLATE = fileURLToPath(new URL('./new-partner/template/', import.meta.url));
const REPO = fileURLToPath(new URL('../', import.meta.url));
const ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export class NewPartnerError extends Error {
  override name = 'NewPartnerError';
}

export interface Names {
  id: string;
  Name: string;
  camel: string;
  CONST: string;
  activity: string;
}

export function namesOf(id: string, activity: string): Names {
  if (!ID.test(id)) {
    throw new NewPartnerError(
      `<id> must be lower case letters and digits, words joined by '-': ${JSON.stringify(id)}`,
    );
  }
  const words = id.split('-');
  const Name = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return {
    id,
    Name,
    camel: Name[0]!.toLowerCase() + Name.slice(1),
    CONST: words.map((w) => w.toUpperCase()).join('_'),
    activity,
  };
}

/** The next free activity id from va-901 on, over the register and every policy's own entries. */
export function nextActivity(root: string): string {
  const contracts = path.join(root, 'contracts');
  const ids = new Set<string>();
  const collect = (value: unknown) => {
    for (const a of (value as { activiteiten?: { id: string }[] } | null)?.activiteiten ?? []) {
      ids.add(a.id);
    }
  };
  collect(parse(readFileSync(path.join(contracts, 'verwerkingsactiviteiten.yaml'), 'utf8')));
  for (const f of readdirSync(path.join(contracts, 'policies')).filter((f) =>
    f.endsWith('.yaml'),
  )) {
    collect(parse(readFileSync(path.join(contracts, 'policies', f), 'utf8')));
  }
  for (let n = 901; n <= 999; n++) if (!ids.has(`va-${n}`)) return `va-${n}`;
  throw new NewPartnerError('no activity id left between va-901 and va-999');
}

function fill(text: string, names: Names): string {
  return text.replace(/\{\{(id|Name|camel|CONST|activity)\}\}/g, (_m, k: keyof Names) => names[k]);
}

function templateFiles(dir = TEMPLATE): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? templateFiles(path.join(dir, e.name))
      : e.name.endsWith('.tmpl')
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** The registration line in scripts/modules.ts: an import and an entry of MODULES. */
export function register(modulesTs: string, names: Names): string {
  const imp = `import { ${names.camel}Module } from '../adapters/${names.id}/src/module.ts';\n`;
  const lines = modulesTs.split('\n');
  const lastImport = lines.findLastIndex((l) => l.startsWith('import '));
  const end = lines.findIndex((l, i) => i > lastImport && l.startsWith('];'));
  if (lastImport < 0 || end < 0) throw new NewPartnerError('scripts/modules.ts: no MODULES list');
  lines.splice(end, 0, `  ${names.camel}Module,`);
  lines.splice(lastImport + 1, 0, imp.trimEnd());
  return lines.join('\n');
}

export interface Plan {
  names: Names;
  /** New files, by path relative to the root, with their content. */
  files: Map<string, string>;
  /** Existing files it changes, with their new content. */
  changes: Map<string, string>;
  /**
   * What the steps after writing add: `files` new (its contract types from contracts:gen, the
   * golden verzoek), `changes` to existing files (package-lock.json, from npm install).
   */
  then: { files: string[]; changes: string[] };
}

/** What `new:partner <id>` writes under `root`; refuses an id that is taken. */
export function plan(root: string, id: string): Plan {
  const names = namesOf(id, 'va-000');
  for (const taken of [`adapters/${id}`, `simulators/${id}`, `services/${id}`]) {
    if (existsSync(path.join(root, taken))) throw new NewPartnerError(`${taken} exists already`);
  }
  if (existsSync(path.join(root, 'contracts/policies', `${id}.yaml`))) {
    throw new NewPartnerError(`contracts/policies/${id}.yaml exists already`);
  }
  names.activity = nextActivity(root);
  const files = new Map<string, string>();
  for (const file of templateFiles()) {
    const target = path
      .relative(TEMPLATE, file)
      .replace(/\.tmpl$/, '')
      .split(path.sep)
      .map((seg) => seg.replaceAll('__id__', id))
      .join('/');
    files.set(target, fill(readFileSync(file, 'utf8'), names));
  }
  const read = (f: string) => readFileSync(path.join(root, f), 'utf8');
  const changes = new Map([['scripts/modules.ts', register(read('scripts/modules.ts'), names)]]);
  const then = {
    files: [
      `contracts/src/generated/${id}.ts`,
      `adapters/${id}/fixtures/golden/pip-naar-verzoek.expected.json`,
    ],
    changes: ['package-lock.json'],
  };
  return { names, files, changes, then };
}

export function write(root: string, p: Plan): void {
  for (const [file, text] of [...p.files, ...p.changes]) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
}

if (import.meta.main) {
  const usage = 'usage: npm run new:partner -- <id> [--dry-run]';
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: { 'dry-run': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    console.error(`new:partner: ${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (args.values.help) {
    console.log(usage);
    process.exit(0);
  }
  const [id] = args.positionals;
  if (!id || args.positionals.length > 1) {
    console.error(usage);
    process.exit(2);
  }
  let p: Plan;
  try {
    p = plan(REPO, id);
  } catch (err) {
    if (!(err instanceof NewPartnerError)) throw err;
    console.error(`new:partner: ${err.message}`);
    process.exit(2);
  }
  if (args.values['dry-run']) {
    console.log(
      [
        ...p.files.keys(),
        ...p.then.files,
        ...[...p.changes.keys(), ...p.then.changes].map((f) => `${f} (changed)`),
      ].join('\n'),
    );
    process.exit(0);
  }
  write(REPO, p);
  const run = (cmd: string, cmdArgs: string[]) =>
    execFileSync(cmd, cmdArgs, { cwd: REPO, stdio: 'inherit' });
  // Its contract types and the links of the three new workspaces: p.then.
  run(process.execPath, ['contracts/scripts/gen-types.ts']);
  run('npm', ['install', '--no-audit', '--no-fund']);
  run('npx', ['prettier', '--write', ...p.files.keys(), ...p.changes.keys()]);
  // The golden verzoek, from the translation as written.
  const { pipToVerzoek } = (await import(path.join(REPO, `adapters/${id}/src/translate.ts`))) as {
    pipToVerzoek: (pip: unknown, referentie: string) => unknown;
  };
  const golden = path.join(REPO, `adapters/${id}/fixtures/golden/pip-naar-verzoek`);
  const input = JSON.parse(readFileSync(`${golden}.input.json`, 'utf8')) as unknown;
  writeFileSync(
    `${golden}.expected.json`,
    `${JSON.stringify(pipToVerzoek(input, '4b3c2a1e-0000-4000-8000-000000000001'), null, 2)}\n`,
  );
  console.log(
    `new:partner: ${id} written (${p.files.size + p.then.files.length} new files); changed: ${[
      ...p.changes.keys(),
      ...p.then.changes,
    ].join(
      ', ',
    )}.\nNext: npm test; npm start runs it, npm run demo reports it; to deploy it, its partners.${id} and services.${id} blocks in the deployed configurations (config/ketenhub.yaml, deploy/compose/ketenhub.yaml, deploy/k8s/ketenhub-config.yaml), then npm run deploy:gen.`,
  );
}
