// Test-only helpers (`@ketenhub/kit/testing`): they import vitest and fast-check, so nothing
// under the `.` entry may import this folder.
export * from './conformance.ts';
