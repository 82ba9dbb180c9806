// The local Durable Functions backend: see ./engine.ts (the engine), ./replay.ts (the extension's
// replay of out-of-process actions), ./http-api.ts (the extension's HTTP API) and ./store.ts.
export {
  type ActivityOutcome,
  DurableEngine,
  type DurableEngineOptions,
  type DurableFunctionRunner,
  type InstanceQuery,
  type OrchestratorOutcome,
  type StatusPayload,
  UPPER_SCHEMA_VERSION,
} from "./engine";
export { EventType, type HistoryEvent } from "./history";
export { type DurableClientData, DurableHttpApi, durableClientData } from "./http-api";
export type { InstanceRecord, RuntimeStatus } from "./store";
