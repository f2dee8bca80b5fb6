import { fileURLToPath } from 'node:url';
import { generateApiKey } from '@ketenhub/kit';
import { CONFORMANCE_SERVICE, describeConformance } from '@ketenhub/kit/testing';
import { coaModule } from './module.ts';
import { koppelingToEvent, overdrachtToEvent } from './translate.ts';
import { goldenContext as testContext } from './golden-context.ts';

const KEY = generateApiKey();

describeConformance({
  module: coaModule,
  async setup({ base }) {
    return {
      config: {
        ...base,
        partners: { ...base.partners, coa: { credential: { apiKey: KEY } } },
        services: { ...base.services, coa: CONFORMANCE_SERVICE },
      },
      edgeKey: KEY,
    };
  },
  golden: {
    dir: fileURLToPath(new URL('../fixtures/golden/', import.meta.url)),
    cases: {
      'koppeling-hoofdpersoon': (i) => koppelingToEvent(i as never, testContext),
      'koppeling-nareiziger-zonder-bsn': (i) => koppelingToEvent(i as never, testContext),
      'overdracht-medisch-met-toestemming': (i) => overdrachtToEvent(i as never, testContext),
      'overdracht-medisch-zonder-toestemming': (i) => overdrachtToEvent(i as never, testContext),
    },
  },
  openapi: fileURLToPath(new URL('../openapi.yaml', import.meta.url)),
});
