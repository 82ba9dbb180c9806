// A Functions-compatible host on localhost for the app's real function registrations, with the
// Durable engine of ../durable. See README.md.
export { installFunctionsCore } from "./core-api";
export {
  type FunctionInfo,
  type FunctionsHost,
  type FunctionsHostOptions,
  startFunctionsHost,
} from "./host";
export type { HostKeyOptions, HostKeys } from "./keys";
export { resolveEntryFiles } from "./load-app";
export { type HostLogEntry, type HostLogger, jsonLineLogger } from "./logger";
export { parseSchedule, type Schedule } from "./ncrontab";
