// The local Durable Functions backend: see ./engine.ts (the engine), ./replay.ts (the extension's
// replay of out-of-process actions), ./http-api.ts (the extension's HTTP API) and ./store.ts.
export {
  type ActivityOutcome,
  customStatusTooLarge,
  DEFAULT_BEHAVIOUR,
  type DurableBehaviour,
  type DurableBehaviourOptions,
  DurableEngine,
  type DurableEngineOptions,
  type DurableFunctionRunner,
  durableBehaviour,
  type InstanceQuery,
  type OrchestratorOutcome,
  type StatusPayload,
  timeSpanText,
  UPPER_SCHEMA_VERSION,
} from "./engine";
export { EventType, type HistoryEvent } from "./history";
export { type DurableClientData, DurableHttpApi, durableClientData } from "./http-api";
export { ReplaySchema } from "./replay";
export type { InstanceRecord, RuntimeStatus } from "./store";
