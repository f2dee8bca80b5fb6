export { startKvsSimulator, KVS_PROBLEM_TYPES } from './kvs-simulator.ts';
export type {
  EventLocation,
  FaultInput,
  GemeenteStats,
  KvsSimulator,
  KvsSimulatorOptions,
  SimulatorLogger,
  Stats,
  StoredEvent,
  Violation,
} from './kvs-simulator.ts';
