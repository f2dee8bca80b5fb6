export {
  generateCohort,
  summarizeCohort,
  DEFAULT_START_DATE,
  MAX_COHORT_SIZE,
  MAX_TEST_BSNS,
} from './cohort.ts';
export type { Cohort, CohortOptions, CohortPerson, CohortSummary, Gemeente } from './cohort.ts';
export { toTvsCsv, toTvsRow, TVS_COLUMNS } from './tvs-csv.ts';
export type { TvsColumn, TvsCsvOptions } from './tvs-csv.ts';
export { sendCohort, MAX_RETRIES } from './sender.ts';
export type {
  SendAccepted,
  SendChannel,
  SendCohortOptions,
  SendKind,
  SendRejected,
  SendReport,
  SendSkipped,
} from './sender.ts';
export { createRng } from './prng.ts';
export type { Rng } from './prng.ts';
export { AZC_LOCATIONS, ORIGINS } from './origins.ts';
export type { AzcLocation, Origin } from './origins.ts';
