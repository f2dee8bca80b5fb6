import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { parse } from 'yaml';
import { recordRoutes } from '../http-edge.ts';

/**
 * Checks that a hub API's OpenAPI document and the routes its code registers agree, so the
 * document partners read cannot drift from what the hub serves. Used by each API's test.
 */
export interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
}

export function loadOpenApi(file: string): OpenApiDocument {
  return parse(readFileSync(file, 'utf8')) as OpenApiDocument;
}

/** `METHOD /path` for every documented operation; OpenAPI's `{seq}` written as Fastify's `:seq`. */
export function documentedRoutes(spec: OpenApiDocument): string[] {
  return Object.entries(spec.paths)
    .flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
    )
    .sort();
}

/** `METHOD /path` for every route `register` adds to a fresh Fastify instance (HEAD left out). */
export async function registeredRoutes(
  register: (app: FastifyInstance) => void,
): Promise<string[]> {
  const app = Fastify();
  const routes = recordRoutes(app);
  register(app);
  await app.ready();
  await app.close();
  return routes.sort();
}

/** Every `$ref` value in the document. */
export function refsOf(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refsOf(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsOf(v, out);
    }
  }
  return out;
}
