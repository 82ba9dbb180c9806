// Orchestration history events in the shape the Durable extension hands to out-of-process
// orchestrators: Durable Task Framework events serialised with their .NET property names
// (`EventType` as the number of DurableTask.Core's EventType, `EventId`, `IsPlayed`, `Timestamp`,
// then the event's own fields). durable-functions reads exactly these (lib/src/history/*).

export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;

export type EventTypeName = keyof typeof EventType;
export const EVENT_TYPE_NAMES = Object.fromEntries(
  Object.entries(EventType).map(([k, v]) => [v, k]),
) as Record<number, EventTypeName>;

/** DurableTask.Core's OrchestrationStatus, as ExecutionCompleted carries it. */
export const OrchestrationStatus = {
  Running: 0,
  Completed: 1,
  ContinuedAsNew: 2,
  Failed: 3,
  Canceled: 4,
  Terminated: 5,
  Pending: 6,
  Suspended: 7,
} as const;

export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  [field: string]: unknown;
}

function event(
  type: number,
  timestamp: Date,
  fields: Record<string, unknown> = {},
  eventId = -1,
): HistoryEvent {
  return {
    EventType: type,
    EventId: eventId,
    IsPlayed: false,
    Timestamp: timestamp.toISOString(),
    ...fields,
  };
}

export const history = {
  orchestratorStarted: (at: Date) => event(EventType.OrchestratorStarted, at),
  orchestratorCompleted: (at: Date) => event(EventType.OrchestratorCompleted, at),
  executionStarted: (at: Date, instanceId: string, executionId: string, name: string, input: string | null) =>
    event(EventType.ExecutionStarted, at, {
      OrchestrationInstance: { InstanceId: instanceId, ExecutionId: executionId },
      ParentInstance: null,
      Name: name,
      Version: "",
      Input: input,
      Tags: null,
    }),
  executionCompleted: (at: Date, status: number, result: string | null) =>
    event(EventType.ExecutionCompleted, at, { OrchestrationStatus: status, Result: result }),
  executionTerminated: (at: Date, reason: string | null) =>
    event(EventType.ExecutionTerminated, at, { Input: reason }),
  continueAsNew: (at: Date, input: string | null) =>
    event(EventType.ContinueAsNew, at, {
      OrchestrationStatus: OrchestrationStatus.ContinuedAsNew,
      Result: input,
    }),
  taskScheduled: (at: Date, id: number, name: string, input: string | null) =>
    event(EventType.TaskScheduled, at, { Name: name, Version: "", Input: input }, id),
  taskCompleted: (at: Date, taskScheduledId: number, result: string | null) =>
    event(EventType.TaskCompleted, at, { TaskScheduledId: taskScheduledId, Result: result }),
  taskFailed: (at: Date, taskScheduledId: number, reason: string, details: string | null) =>
    event(EventType.TaskFailed, at, { TaskScheduledId: taskScheduledId, Reason: reason, Details: details }),
  timerCreated: (at: Date, id: number, fireAt: string) =>
    event(EventType.TimerCreated, at, { FireAt: fireAt }, id),
  timerFired: (at: Date, timerId: number, fireAt: string) =>
    event(EventType.TimerFired, at, { TimerId: timerId, FireAt: fireAt }),
  eventRaised: (at: Date, name: string, input: string | null) =>
    event(EventType.EventRaised, at, { Name: name, Input: input }),
};

/**
 * The history as the extension's status query shows it (`showHistory=true`): event type names,
 * no OrchestratorStarted/Completed, TaskScheduled folded into its completion (FunctionName,
 * ScheduledTime), results only with `showHistoryOutput`, inputs only with `showInput`.
 */
export function historyForStatus(
  events: readonly HistoryEvent[],
  showHistoryOutput: boolean,
  showInput: boolean,
): unknown[] {
  const scheduled = new Map<number, HistoryEvent>();
  const folded = new Set<HistoryEvent>();
  const out: Record<string, unknown>[] = [];
  const parse = (value: unknown): unknown => {
    if (typeof value !== "string") return value ?? null;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  };
  for (const source of events) {
    const item: Record<string, unknown> = { ...source };
    const type = source.EventType;
    item.EventType = EVENT_TYPE_NAMES[type] ?? String(type);
    switch (type) {
      case EventType.TaskScheduled:
        scheduled.set(source.EventId, source);
        delete item.Version;
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed: {
        const origin = scheduled.get(source.TaskScheduledId as number);
        if (origin !== undefined) {
          item.ScheduledTime = origin.Timestamp;
          item.FunctionName = origin.Name;
          if (showInput) item.Input = origin.Input;
          folded.add(origin);
        }
        delete item.TaskScheduledId;
        if (type === EventType.TaskCompleted) {
          if (showHistoryOutput) item.Result = parse(item.Result);
          else delete item.Result;
        }
        break;
      }
      case EventType.ExecutionStarted:
        item.FunctionName = item.Name;
        delete item.Name;
        delete item.OrchestrationInstance;
        delete item.ParentInstance;
        delete item.Version;
        delete item.Tags;
        break;
      case EventType.ExecutionCompleted:
      case EventType.ContinueAsNew: {
        const status = Object.entries(OrchestrationStatus).find(([, v]) => v === source.OrchestrationStatus);
        if (status !== undefined) item.OrchestrationStatus = status[0];
        if (showHistoryOutput) item.Result = parse(item.Result);
        else delete item.Result;
        break;
      }
      case EventType.TimerFired:
        delete item.TimerId;
        break;
      case EventType.OrchestratorStarted:
      case EventType.OrchestratorCompleted:
        folded.add(source);
        break;
    }
    if (!showInput) delete item.Input;
    delete item.EventId;
    delete item.IsPlayed;
    (item as { source?: HistoryEvent }).source = source;
    out.push(item);
  }
  return out
    .filter((item) => !folded.has((item as { source: HistoryEvent }).source))
    .map(({ source: _source, ...rest }) => rest);
}
