// Structured log events with stable names: what operators query in Application Insights (issue 6
// builds the KQL on these names and properties; change them only with the queries).
export const EVENTS = {
  eventAccepted: "AksEgressGuard.EventAccepted",
  eventDropped: "AksEgressGuard.EventDropped",
  passStarted: "AksEgressGuard.PassStarted",
  planComputed: "AksEgressGuard.PlanComputed",
  approvalRequested: "AksEgressGuard.ApprovalRequested",
  approvalDecided: "AksEgressGuard.ApprovalDecided",
  approvalRefused: "AksEgressGuard.ApprovalRefused",
  approvalExpired: "AksEgressGuard.ApprovalExpired",
  approvalSuperseded: "AksEgressGuard.ApprovalSuperseded",
  planApplied: "AksEgressGuard.PlanApplied",
  passCompleted: "AksEgressGuard.PassCompleted",
  passFailed: "AksEgressGuard.PassFailed",
  catalogChanged: "AksEgressGuard.CatalogChanged",
  catalogWatchFailed: "AksEgressGuard.CatalogWatchFailed",
  catalogAdoption: "AksEgressGuard.CatalogAdoption",
} as const;

export type EventName = (typeof EVENTS)[keyof typeof EVENTS];

export interface Logger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/**
 * One line per event: the name, then a JSON object. Application Insights keeps it in `traces.message`
 * (`parse_json(substring(message, indexof(message, "{")))` gives the properties back).
 */
export function logEvent(
  logger: Logger,
  name: EventName,
  properties: Record<string, unknown>,
  level: keyof Logger = "info",
): void {
  logger[level](`${name} ${JSON.stringify(properties)}`);
}
