// What the Durable extension does with an out-of-process orchestrator's answer: it replays the
// returned actions through the Durable Task Framework against the same history, which assigns each
// scheduled task and timer its sequence id, matches them with TaskScheduled/TimerCreated events
// already in the history and turns the rest into new work. durable-functions assigns the same ids on
// its side (TaskOrchestrationExecutor.trackOpenTask), so completions find their tasks.
//
// This is that replay for replay schemas V2 to V4 (the extension's `ProcessAsyncActionsV2`, which
// all three use): the actions of `actions[0]` are awaited one after the other; a WhenAll/WhenAny
// invokes all its children at once and completes as .NET's Task.WhenAll (all children done) /
// Task.WhenAny (first child done); CallActivityWithRetry follows DurableTask's RetryInterceptor
// (attempt, then a timer after each failure, delay = first × coefficient^attempt capped at the
// maximum, until the attempts or the retry timeout run out; after the last failed attempt a timer
// due at once, DurableTask's "dummy timer for back-compat"); a cancelled timer is still created (and
// fires) but no longer holds up its parent, as with DurableTask's cancellation token; external
// events are buffered until awaited and go to the newest waiter of their name first (the extension
// keeps waiters on a stack). Timers go through the extension's CreateTimer: from schema V3 on, one
// longer than the provider's maximum becomes a loop of shorter timers, and the context-wide
// "long-running timer" flag is kept exactly as the extension keeps it (left set by a cancelled long
// timer, which makes a later timer due at the current time create nothing); before V3, a timer
// longer than the maximum fails the orchestration. History events are applied in order after the
// ExecutionStarted event starts the actions.
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

/** durable-functions' ReplaySchema numbers, as its orchestrator state reports `schemaVersion`. */
export const ReplaySchema = { V1: 0, V2: 1, V3: 2, V4: 3 } as const;

/** Azure Storage's MaximumDelayTime and LongRunningTimerIntervalLength (Microsoft's docs). */
export const AZURE_STORAGE_MAXIMUM_TIMER_MS = 6 * 86_400_000;
export const AZURE_STORAGE_TIMER_INTERVAL_MS = 3 * 86_400_000;

export interface ReplayOptions {
  /** The registered activity whose name matches, case-insensitively, or undefined. */
  resolveActivity(name: string): string | undefined;
  /** The `schemaVersion` of the orchestrator's state (default V2). */
  schemaVersion?: number;
  /** The provider's maximum timer length (MaximumDelayTime), ms; default 6 days. */
  maximumShortTimerMs?: number;
  /** The interval of a long timer's parts (LongRunningTimerIntervalLength), ms; default 3 days. */
  longRunningTimerIntervalMs?: number;
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
  readonly #schema: number;
  readonly #maximumTimerMs: number;
  readonly #timerIntervalMs: number;
  #nextId = 0;
  #currentTime = 0;
  /** The extension's DurableOrchestrationContext.IsLongRunningTimer (one per replay, as there). */
  #longRunningTimer = false;

  constructor(history: readonly HistoryEvent[], options: ReplayOptions) {
    this.#history = history;
    this.#options = options;
    this.#schema = options.schemaVersion ?? ReplaySchema.V2;
    this.#maximumTimerMs = options.maximumShortTimerMs ?? AZURE_STORAGE_MAXIMUM_TIMER_MS;
    this.#timerIntervalMs = options.longRunningTimerIntervalMs ?? AZURE_STORAGE_TIMER_INTERVAL_MS;
    for (const event of history) {
      if (event.EventType === EventType.TaskScheduled || event.EventType === EventType.TimerCreated) {
        this.#scheduled.set(event.EventId, event);
      }
    }
  }

  run(actionsJson: unknown): ReplayResult {
    if (!Array.isArray(actionsJson) || actionsJson.length !== 1 || !Array.isArray(actionsJson[0])) {
      return this.#fail(
        `With out-of-process schema ${this.#schemaName()}, expected the actions array to be of length 1 in its outer layer.`,
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

  #schemaName(): string {
    return Object.entries(ReplaySchema).find(([, v]) => v === this.#schema)?.[0] ?? `V2`;
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
    // The extension keeps the waiters of a name on a stack: the newest gets the event, also when an
    // older one (e.g. the loser of a Task.any) is still registered.
    const waiter = this.#eventWaiters.get(key)?.pop();
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
      case ActionType.CreateTimer:
        return this.#createTimer(action);
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

  /**
   * The extension's CreateTimer (DurableOrchestrationContext), with the shim's cancellation: the
   * shim cancels a cancelled timer right after CreateTimer returns, i.e. after its first DurableTask
   * timer exists; the await then throws, so `IsLongRunningTimer` is not reset.
   */
  #createTimer(action: ActionJson): ShimTask {
    const task = new ShimTask();
    const fireAt = Date.parse(String(action.fireAt));
    const cancelled = action.isCanceled === true;
    if (Number.isNaN(fireAt)) {
      this.#fail(
        `The orchestrator created a timer with an invalid fireAt: ${JSON.stringify(action.fireAt)}.`,
      );
      return task;
    }
    if (this.#schema < ReplaySchema.V3 && fireAt - this.#currentTime > this.#maximumTimerMs) {
      // ThrowIfInvalidTimerLengthForStorageProvider (schema V1/V2 only): an ArgumentException.
      this.#fail(
        `The Azure Storage provider supports a maximum of ${this.#maximumTimerMs / 86_400_000} days for time-based delays (Parameter 'fireAt')`,
      );
      return task;
    }
    let intervalFireAt = fireAt;
    if (fireAt - this.#currentTime > this.#maximumTimerMs) {
      this.#longRunningTimer = true;
      intervalFireAt = this.#currentTime + this.#timerIntervalMs;
    }
    const done = () => {
      this.#longRunningTimer = false;
      task.complete();
    };
    if (!this.#longRunningTimer) {
      const id = this.#scheduleTimer(new Date(fireAt).toISOString());
      if (cancelled) task.complete();
      else this.#open.set(id, done);
      return task;
    }
    // while (CurrentUtcDateTime < fireAt && !cancelled) { await timer(intervalFireAt); next interval }
    const part = (at: number): void => {
      const id = this.#scheduleTimer(new Date(at).toISOString());
      if (cancelled) {
        task.complete();
        return;
      }
      this.#open.set(id, () => {
        const remaining = fireAt - this.#currentTime;
        if (remaining <= 0) done();
        else part(this.#currentTime + Math.min(remaining, this.#timerIntervalMs));
      });
    };
    if (this.#currentTime < fireAt) part(intervalFireAt);
    else done();
    return task;
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
        if (retryCount + 1 >= maxAttempts) {
          // DurableTask (since it fixed an extra full-backoff timer here) keeps a timer after the
          // last failed attempt for replay compatibility, due at once.
          const dummyId = this.#scheduleTimer(new Date(this.#currentTime).toISOString());
          this.#open.set(dummyId, () => task.complete());
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
        this.#open.set(timerId, () => attempt(retryCount + 1));
      });
    };
    if (maxAttempts < 1) task.complete();
    else attempt(0);
  }
}
