export {
  REDENEN,
  TRAJECT_BEEINDIGD,
  TRAJECT_BESTAAT,
  addDays,
  addMonths,
  startKredietbankSimulator,
} from './kredietbank-simulator.ts';
export type {
  FaultInput,
  KredietbankSimStats,
  KredietbankSimulator,
  KredietbankSimulatorOptions,
  PaymentFault,
  Reden,
  SimulatorLogger,
  Traject,
  WebhookRecord,
} from './kredietbank-simulator.ts';
