import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@ketenhub/kit';
import { documentedRoutes, loadOpenApi, refsOf, registeredRoutes } from '@ketenhub/kit/testing';
import { registerAdminRoutes } from './routes.ts';

const spec = loadOpenApi(fileURLToPath(new URL('./openapi.yaml', import.meta.url)));

describe('admin OpenAPI document', () => {
  it('describes exactly the routes the service registers', async () => {
    const routes = await registeredRoutes((app) =>
      registerAdminRoutes(app, {
        js: {} as never,
        jsm: {} as never,
        policySet: {} as never,
        pseudonymKeys: [],
        uren: {} as never,
        served: [],
        logger: createLogger('test', { level: 'silent' }),
      }),
    );
    expect(documentedRoutes(spec)).toEqual(routes);
  });

  it('resolves every $ref inside the document', () => {
    for (const ref of refsOf(spec)) {
      expect(ref.startsWith('#/'), ref).toBe(true);
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], spec);
      expect(target, ref).toBeDefined();
    }
  });
});
