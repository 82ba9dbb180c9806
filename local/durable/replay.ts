// What the Durable extension does with an out-of-process orchestrator's answer: it replays the
// returned actions through the Durable Task Framework against the same history, which assigns each
// scheduled task and timer its sequence id, matches them with TaskScheduled/TimerCreated events
// already in the history and turns the rest into new work. durable-functions assigns the same ids on
// its side (TaskOrchestrationExecutor.trackOpenTask), so completions find their tasks.
//
// This is that replay for replay schema V2 (the extension's `ProcessAsyncActionsV2`): the actions of
// `actions[0]` are awaited one after the other; a WhenAll/WhenAny invokes all its children at once
// and completes as .NET's Task.WhenAll (all children done) / Task.WhenAny (first child done);
// CallActivityWithRetry follows DurableTask's RetryInterceptor (attempt, then a timer after each
// failure, delay = first × coefficient^attempt capped at the maximum, until the attempts or the retry
// timeout run out); a cancelled timer is still created (and fires) but no longer holds up its
// parent, as with DurableTask's cancellation token; external events are buffered until awaited.
// History events are applied in order after the ExecutionStarted event starts the actions.
import { EventType, type HistoryEvent } from "./history";

export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

const ACTION_NAMES = Object.fromEntries(Object.entries(ActionType).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;

export interface ActionJson {
  actionType: number;
  functionName?: string;
  input?: unknown;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  compoundActions?: ActionJson[];
  retryOptions?: {
    firstRetryIntervalInMilliseconds?: number;
    maxNumberOfAttempts?: number;
    backoffCoefficient?: number;
    maxRetryIntervalInMilliseconds?: number;
    retryTimeoutInMilliseconds?: number;
  };
}

export interface NewActivity {
  id: number;
  name: string;
  /** The input as the orchestrator passed it (durable-functions pre-encodes strings as JSON). */
  input: unknown;
}

export interface NewTimer {
  id: number;
  fireAt: string;
}

export interface ReplayResult {
  activities: NewActivity[];
  timers: NewTimer[];
  continueAsNew?: { input: unknown };
  /** Set when the actions cannot be carried out; the orchestration fails with this message. */
  failure?: string;
}

class ShimTask {
  done = false;
  #continuations: (() => void)[] = [];
  complete(): void {
    if (this.done) return;
    this.done = true;
    for (const continuation of this.#continuations.splice(0)) continuation();
  }
  whenDone(continuation: () => void): void {
    if (this.done) continuation();
    else this.#continuations.push(continuation);
  }
}

export interface ReplayOptions {
  /** The registered activity whose name matches, case-insensitively, or undefined. */
  resolveActivity(name: string): string | undefined;
}

export function replayActions(
  history: readonly HistoryEvent[],
  actions: unknown,
  options: ReplayOptions,
): ReplayResult {
  return new Replay(history, options).run(actions);
}

class Replay {
  readonly #history: readonly HistoryEvent[];
  readonly #options: ReplayOptions;
  readonly #scheduled = new Map<number, HistoryEvent>();
  readonly #open = new Map<number, (event: HistoryEvent) => void>();
  readonly #eventWaiters = new Map<string, ShimTask[]>();
  readonly #bufferedEvents = new Map<string, number>();
  readonly #result: ReplayResult = { activities: [], timers: [] };
  #nextId = 0;
  #currentTime = 0;

  constructor(history: readonly HistoryEvent[], options: ReplayOptions) {
    this.#history = history;
    this.#options = options;
    for (const event of history) {
      if (event.EventType === EventType.TaskScheduled || event.EventType === EventType.TimerCreated) {
        this.#scheduled.set(event.EventId, event);
      }
    }
  }

  run(actionsJson: unknown): ReplayResult {
    if (!Array.isArray(actionsJson) || actionsJson.length !== 1 || !Array.isArray(actionsJson[0])) {
      return this.#fail(
        "With out-of-process schema V2, expected the actions array to be of length 1 in its outer layer.",
      );
    }
    const actions = actionsJson[0] as ActionJson[];
    for (const event of this.#history) {
      if (this.#result.failure !== undefined) break;
      switch (event.EventType) {
        case EventType.OrchestratorStarted:
          this.#currentTime = Date.parse(event.Timestamp);
          break;
        case EventType.ExecutionStarted:
          this.#step(actions, 0);
          break;
        case EventType.TaskCompleted:
        case EventType.TaskFailed:
          this.#complete(event.TaskScheduledId, event);
          break;
        case EventType.TimerFired:
          this.#complete(event.TimerId, event);
          break;
        case EventType.EventRaised:
          this.#deliverEvent(String(event.Name));
          break;
      }
    }
    return this.#result;
  }

  #fail(message: string): ReplayResult {
    this.#result.failure ??= message;
    return this.#result;
  }

  #complete(id: unknown, event: HistoryEvent): void {
    if (typeof id !== "number") return;
    const continuation = this.#open.get(id);
    if (continuation === undefined) return; // a cancelled timer or a duplicate: DurableTask ignores it too
    this.#open.delete(id);
    continuation(event);
  }

  #deliverEvent(name: string): void {
    const key = name.toLowerCase();
    const waiter = this.#eventWaiters.get(key)?.shift();
    if (waiter !== undefined) {
      waiter.complete();
      return;
    }
    this.#bufferedEvents.set(key, (this.#bufferedEvents.get(key) ?? 0) + 1);
  }

  /** Awaits the top-level actions in order, as `ProcessAsyncActionsV2` does. */
  #step(actions: readonly ActionJson[], from: number): void {
    let index = from;
    while (index < actions.length && this.#result.failure === undefined) {
      const action = actions[index];
      index++;
      if (action === undefined) continue;
      const task = this.#invoke(action);
      if (!task.done) {
        const next = index;
        task.whenDone(() => this.#step(actions, next));
        return;
      }
    }
  }

  #verifyScheduled(id: number, type: number, name: string | undefined): boolean {
    const existing = this.#scheduled.get(id);
    if (existing === undefined) return false;
    const sameName = name === undefined || String(existing.Name ?? "").toLowerCase() === name.toLowerCase();
    if (existing.EventType !== type || !sameName) {
      this.#fail(
        `Non-deterministic workflow detected: the orchestrator now schedules ${
          type === EventType.TimerCreated ? "a timer" : `activity "${name}"`
        } as task ${id}, but the history has ${JSON.stringify(existing.Name ?? "a timer")} there.`,
      );
    }
    return true;
  }

  #scheduleActivity(name: string, input: unknown): number {
    const id = this.#nextId++;
    if (!this.#verifyScheduled(id, EventType.TaskScheduled, name))
      this.#result.activities.push({ id, name, input });
    return id;
  }

  #scheduleTimer(fireAt: string): number {
    const id = this.#nextId++;
    if (!this.#verifyScheduled(id, EventType.TimerCreated, undefined))
      this.#result.timers.push({ id, fireAt });
    return id;
  }

  #activityName(action: ActionJson): string | undefined {
    const requested = String(action.functionName ?? "");
    const name = this.#options.resolveActivity(requested);
    if (name === undefined) {
      this.#fail(`The function '${requested}' doesn't exist, is disabled, or is not an activity function.`);
    }
    return name;
  }

  #invoke(action: ActionJson): ShimTask {
    const task = new ShimTask();
    switch (action.actionType) {
      case ActionType.CallActivity: {
        const name = this.#activityName(action);
        if (name === undefined) return task;
        this.#open.set(this.#scheduleActivity(name, action.input), () => task.complete());
        return task;
      }
      case ActionType.CallActivityWithRetry: {
        const name = this.#activityName(action);
        if (name === undefined) return task;
        this.#retry(task, name, action);
        return task;
      }
      case ActionType.CreateTimer: {
        const id = this.#scheduleTimer(String(action.fireAt));
        if (action.isCanceled === true) task.complete();
        else this.#open.set(id, () => task.complete());
        return task;
      }
      case ActionType.WaitForExternalEvent: {
        const key = String(action.externalEventName ?? "").toLowerCase();
        const buffered = this.#bufferedEvents.get(key) ?? 0;
        if (buffered > 0) {
          this.#bufferedEvents.set(key, buffered - 1);
          task.complete();
        } else {
          const waiters = this.#eventWaiters.get(key) ?? [];
          waiters.push(task);
          this.#eventWaiters.set(key, waiters);
        }
        return task;
      }
      case ActionType.ContinueAsNew:
        this.#result.continueAsNew = { input: action.input };
        task.complete();
        return task;
      case ActionType.WhenAll:
      case ActionType.WhenAny: {
        const children = (action.compoundActions ?? []).map((child) => this.#invoke(child));
        if (children.length === 0) {
          task.complete();
          return task;
        }
        let remaining = children.length;
        for (const child of children) {
          child.whenDone(() => {
            remaining--;
            if (action.actionType === ActionType.WhenAny || remaining === 0) task.complete();
          });
        }
        return task;
      }
      default:
        this.#fail(
          `The orchestrator used ${ACTION_NAMES[action.actionType] ?? `action type ${action.actionType}`}, ` +
            "which the local functions host does not support (it runs activities, timers, external events, " +
            "Task.all/any, retries and continueAsNew; not sub-orchestrations, entities or callHttp).",
        );
        return task;
    }
  }

  /** DurableTask's RetryInterceptor: `for attempt: try { await call } catch { delay; await timer }`. */
  #retry(task: ShimTask, name: string, action: ActionJson): void {
    const options = action.retryOptions ?? {};
    const maxAttempts = options.maxNumberOfAttempts ?? 1;
    const first = options.firstRetryIntervalInMilliseconds ?? 0;
    const coefficient = options.backoffCoefficient ?? 1;
    const maxInterval = options.maxRetryIntervalInMilliseconds ?? Number.POSITIVE_INFINITY;
    const timeout = options.retryTimeoutInMilliseconds ?? Number.POSITIVE_INFINITY;
    const firstAttempt = this.#currentTime;
    const attempt = (retryCount: number): void => {
      const id = this.#scheduleActivity(name, action.input);
      this.#open.set(id, (event) => {
        if (event.EventType === EventType.TaskCompleted) {
          task.complete();
          return;
        }
        let delay = 0;
        if (this.#currentTime < firstAttempt + timeout) {
          const next = first * coefficient ** retryCount;
          delay = next < maxInterval ? next : maxInterval;
        }
        if (!(delay > 0)) {
          task.complete();
          return;
        }
        const timerId = this.#scheduleTimer(new Date(this.#currentTime + delay).toISOString());
        this.#open.set(timerId, () => {
          if (retryCount + 1 < maxAttempts) attempt(retryCount + 1);
          else task.complete();
        });
      });
    };
    if (maxAttempts < 1) task.complete();
    else attempt(0);
  }
}
