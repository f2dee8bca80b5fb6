import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import Fastify from 'fastify';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@ketenhub/kit';
import { registerTaalaanbiederRoutes } from './routes.ts';
import { memoryTrajectStore } from './traject.ts';

const specFile = fileURLToPath(new URL('../openapi.yaml', import.meta.url));
const spec = parse(readFileSync(specFile, 'utf8')) as {
  paths: Record<string, Record<string, unknown>>;
};

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refs(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe('taalaanbieder OpenAPI document', () => {
  it('describes exactly the routes the adapter registers', async () => {
    const app = Fastify();
    const routes: string[] = [];
    app.addHook('onRoute', (r) => {
      for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push(`${m} ${r.url}`);
    });
    registerTaalaanbiederRoutes(app, {
      ctx: { source: 'urn:test' },
      trajecten: memoryTrajectStore(),
      publish: async () => undefined,
      logger: createLogger('test', { level: 'silent' }),
    });
    await app.ready();
    const documented = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(routes.sort());
  });

  it('points only at contract files that exist', () => {
    for (const ref of refs(spec).filter((r) => !r.startsWith('#'))) {
      expect(existsSync(resolve(dirname(specFile), ref)), ref).toBe(true);
    }
  });
});
