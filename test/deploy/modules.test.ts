import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@ketenhub/kit';
import { generatedFiles } from '../../scripts/deploy-gen.ts';
import { MODULES } from '../../scripts/modules.ts';

describe('deployment artefacts generated from the partner modules', () => {
  it.each([...generatedFiles()].map(([file, text]) => [path.relative(REPO_ROOT, file), text]))(
    '%s is what the modules and the configuration say (npm run deploy:gen)',
    (file, text) => {
      expect(readFileSync(path.join(REPO_ROOT, file), 'utf8'), 'run `npm run deploy:gen`').toBe(
        text,
      );
    },
  );

  it('registers every module once, each under its own service and id', () => {
    const modules = MODULES.map((m) => m());
    expect(new Set(modules.map((m) => m.service)).size).toBe(modules.length);
    expect(new Set(modules.map((m) => m.id)).size).toBe(modules.length);
  });
});
