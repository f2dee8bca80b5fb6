export {
  DEFAULT_DUO_OIN,
  DEFAULT_INSTELLINGEN,
  DEFAULT_VERLENGINGSGRONDEN,
  DUO_API_VERSIONS,
  startDuoSimulator,
} from './duo-simulator.ts';
export type {
  ApiStats,
  ContactpersoonRecord,
  Contactpersoongegevens,
  DuoSimStats,
  DuoSimulator,
  DuoSimulatorOptions,
  FaultInput,
  Instelling,
  NotifyInput,
  RequestRecord,
  SimEventResult,
  SimulatorLogger,
  Verlengingsgrond,
} from './duo-simulator.ts';
export { DEFAULT_DUO_SPEC_DIR, duoSpecsAvailable, loadDuoSpecs } from './openapi-validator.ts';
export type {
  DuoApiInfo,
  DuoOperationInfo,
  DuoOperationMatch,
  DuoSpecs,
  HeaderBag,
  LoadDuoSpecsOptions,
  SpecLocation,
  SpecViolation,
  ValidateResponseOptions,
} from './openapi-validator.ts';
export {
  DUO_RULES,
  checkInburgeringsaanbod,
  checkMapPvt,
  checkPipRegistratie,
  checkPipVerwijdering,
  recordedNiveau,
} from './rules.ts';
export type {
  AanbodFacts,
  AanbodInput,
  Doelgroepindeling,
  DuoRuleId,
  JaNee,
  Leerroute,
  MapOfPvt,
  MapPvtFacts,
  MapPvtInput,
  NiveauPip,
  PipInput,
  PipRegistratieFacts,
  PipVerwijderingFacts,
  RuleViolation,
  Termijn,
} from './rules.ts';
export { GEBEURTENISSEN, SIM_EVENT_TYPES } from './state.ts';
export type { GebeurtenisId, GratisPogingTegoed, PersonState, SimEventType } from './state.ts';
export { NOTIFICATIE_API_VERSION } from './notifier.ts';
export type {
  NotificatieBody,
  NotificationAttempt,
  NotificationOutcome,
  NotificationRecord,
} from './notifier.ts';
