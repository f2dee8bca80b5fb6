// Test-only helpers (`@ketenhub/kit/testing`): the conformance suite and the OpenAPI route
// checks. The suite imports vitest, which throws outside its runner, so nothing outside a test
// may import this entry; the local nats-server that scripts start too is in
// `@ketenhub/kit/processes`.
export * from './conformance.ts';
export * from './openapi-routes.ts';
