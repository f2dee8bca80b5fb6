import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@ketenhub/kit';
import { registerAdminRoutes } from './routes.ts';

const spec = parse(
  readFileSync(fileURLToPath(new URL('./openapi.yaml', import.meta.url)), 'utf8'),
) as { paths: Record<string, Record<string, unknown>> };

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

describe('admin OpenAPI document', () => {
  it('describes exactly the routes the service registers', async () => {
    const app = Fastify();
    const routes: string[] = [];
    app.addHook('onRoute', (r) => {
      for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push(`${m} ${r.url}`);
    });
    registerAdminRoutes(app, {
      js: {} as never,
      jsm: {} as never,
      policySet: {} as never,
      pseudonymKeys: [],
      logger: createLogger('test', { level: 'silent' }),
    });
    await app.ready();
    // OpenAPI writes path parameters as {seq}, Fastify as :seq.
    const documented = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
    );
    expect(documented.sort()).toEqual(routes.sort());
  });

  it('resolves every $ref inside the document', () => {
    for (const ref of refs(spec)) {
      expect(ref.startsWith('#/'), ref).toBe(true);
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], spec);
      expect(target, ref).toBeDefined();
    }
  });
});
