import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@ketenhub/kit';
import { documentedRoutes, loadOpenApi, refsOf, registeredRoutes } from '@ketenhub/kit/testing';
import { memoryBegeleidingStore } from './begeleiding.ts';
import { registerVluchtelingenwerkRoutes } from './routes.ts';

const specFile = fileURLToPath(new URL('../openapi.yaml', import.meta.url));
const spec = loadOpenApi(specFile);

describe('vluchtelingenwerk OpenAPI document', () => {
  it('describes exactly the routes the adapter registers', async () => {
    const routes = await registeredRoutes((app) =>
      registerVluchtelingenwerkRoutes(app, {
        ctx: { source: 'urn:test' },
        begeleidingen: memoryBegeleidingStore(),
        pvtBevestiging: () => 'kvs',
        publish: async () => undefined,
        logger: createLogger('test', { level: 'silent' }),
      }),
    );
    expect(documentedRoutes(spec)).toEqual(routes);
  });

  it('points only at contract files that exist', () => {
    for (const ref of refsOf(spec).filter((r) => !r.startsWith('#'))) {
      expect(existsSync(resolve(dirname(specFile), ref)), ref).toBe(true);
    }
  });
});
