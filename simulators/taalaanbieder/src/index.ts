export { startTaalaanbiederSimulator } from './taalaanbieder-simulator.ts';
export type {
  FaultInput,
  TaalaanbiederSimulator,
  TaalaanbiederStats,
  TaalaanbiederSimulatorOptions,
  TickOptions,
  TickReport,
} from './taalaanbieder-simulator.ts';
export { runTaalaanbiederFlows } from './demo-flows.ts';
export type { DemoLearner, FlowCount } from './demo-flows.ts';
