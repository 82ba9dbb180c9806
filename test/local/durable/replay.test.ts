// The extension's replay of out-of-process actions (schema V2) against a history: which tasks and
// timers are new, with the sequence ids durable-functions assigns on its side.
import { describe, expect, it } from "vitest";
import { EventType, type HistoryEvent } from "../../../local/durable";
import { ActionType, replayActions } from "../../../local/durable/replay";

const T0 = Date.parse("2024-05-01T10:00:00.000Z");
let clock = T0;
function ev(type: number, fields: Record<string, unknown> = {}, eventId = -1): HistoryEvent {
  return {
    EventType: type,
    EventId: eventId,
    IsPlayed: false,
    Timestamp: new Date(clock).toISOString(),
    ...fields,
  };
}
const started = () => [
  ev(EventType.OrchestratorStarted),
  ev(EventType.ExecutionStarted, { Name: "orch", Input: null }),
];
const episode = (...events: HistoryEvent[]) => {
  clock += 1000;
  return [ev(EventType.OrchestratorStarted), ...events];
};
const scheduled = (id: number, name: string) => ev(EventType.TaskScheduled, { Name: name }, id);
const completed = (id: number) => ev(EventType.TaskCompleted, { TaskScheduledId: id, Result: "null" });
const failed = (id: number) =>
  ev(EventType.TaskFailed, { TaskScheduledId: id, Reason: "boom", Details: null });
const timerCreated = (id: number) => ev(EventType.TimerCreated, { FireAt: "x" }, id);
const timerFired = (id: number) => ev(EventType.TimerFired, { TimerId: id, FireAt: "x" });

const call = (name: string) => ({ actionType: ActionType.CallActivity, functionName: name, input: '"in"' });
const timer = (isCanceled = false) => ({
  actionType: ActionType.CreateTimer,
  fireAt: "2024-05-01T11:00:00.000Z",
  isCanceled,
});
const wait = (name: string) => ({
  actionType: ActionType.WaitForExternalEvent,
  externalEventName: name,
  reason: "ExternalEvent",
});
const options = { resolveActivity: (name: string) => (["a", "b", "c"].includes(name) ? name : undefined) };

describe("replaying actions", () => {
  it("schedules the first activity as task 0", () => {
    clock = T0;
    expect(replayActions(started(), [[call("a")]], options)).toEqual({
      activities: [{ id: 0, name: "a", input: '"in"' }],
      timers: [],
    });
  });

  it("matches scheduled tasks by sequence and schedules only what is new", () => {
    clock = T0;
    const history = [...started(), scheduled(0, "a"), ...episode(completed(0))];
    const result = replayActions(
      history,
      [[call("a"), { actionType: ActionType.WhenAll, compoundActions: [call("b"), call("c")] }]],
      options,
    );
    expect(result.activities.map((a) => [a.id, a.name])).toEqual([
      [1, "b"],
      [2, "c"],
    ]);
  });

  it("waits for the whole WhenAll, as .NET's Task.WhenAll, before the next action", () => {
    clock = T0;
    const history = [...started(), scheduled(0, "a"), scheduled(1, "b"), ...episode(failed(0))];
    const actions = [
      [{ actionType: ActionType.WhenAll, compoundActions: [call("a"), call("b")] }, call("c")],
    ];
    expect(replayActions(history, actions, options).activities).toEqual([]);
    const later = [...history, ...episode(completed(1))];
    expect(replayActions(later, actions, options).activities).toEqual([{ id: 2, name: "c", input: '"in"' }]);
  });

  it("gives a WhenAny's timer its id, and a cancelled timer no longer holds up what follows", () => {
    clock = T0;
    const waiting = [...started(), scheduled(0, "a"), ...episode(completed(0))];
    const any = (cancelled: boolean) => ({
      actionType: ActionType.WhenAny,
      compoundActions: [wait("go"), timer(cancelled)],
    });
    expect(replayActions(waiting, [[call("a"), any(false)]], options)).toEqual({
      activities: [],
      timers: [{ id: 1, fireAt: "2024-05-01T11:00:00.000Z" }],
    });
    const raised = [
      ...waiting,
      timerCreated(1),
      ...episode(ev(EventType.EventRaised, { Name: "go", Input: "1" })),
    ];
    expect(replayActions(raised, [[call("a"), any(true), call("b")]], options)).toEqual({
      activities: [{ id: 2, name: "b", input: '"in"' }],
      timers: [],
    });
  });

  it("buffers an event raised before it is awaited", () => {
    clock = T0;
    const history = [
      ...started(),
      scheduled(0, "a"),
      ...episode(ev(EventType.EventRaised, { Name: "go" })),
      ...episode(completed(0)),
    ];
    expect(replayActions(history, [[call("a"), wait("go"), call("b")]], options).activities).toEqual([
      { id: 1, name: "b", input: '"in"' },
    ]);
  });

  it("retries as DurableTask's RetryInterceptor: a timer after each failure, then a new attempt", () => {
    clock = T0;
    const retry = {
      actionType: ActionType.CallActivityWithRetry,
      functionName: "a",
      input: null,
      retryOptions: { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 2, backoffCoefficient: 2 },
    };
    const afterFailure = [...started(), scheduled(0, "a"), ...episode(failed(0))];
    const failedAt = clock;
    expect(replayActions(afterFailure, [[retry]], options)).toEqual({
      activities: [],
      timers: [{ id: 1, fireAt: new Date(failedAt + 1000).toISOString() }],
    });
    const afterTimer = [...afterFailure, timerCreated(1), ...episode(timerFired(1))];
    expect(replayActions(afterTimer, [[retry]], options).activities).toEqual([
      { id: 2, name: "a", input: null },
    ]);
    // The last attempt fails too: one more timer, due at once (DurableTask's "dummy timer for
    // back-compat"; before it, a full backoff of 1000 × 2¹), then the task fails.
    const lastFailure = [...afterTimer, scheduled(2, "a"), ...episode(failed(2))];
    expect(replayActions(lastFailure, [[retry]], options).timers).toEqual([
      { id: 3, fireAt: new Date(clock).toISOString() },
    ]);
    const done = [...lastFailure, timerCreated(3), ...episode(timerFired(3))];
    expect(replayActions(done, [[retry, call("b")]], options).activities).toEqual([
      { id: 4, name: "b", input: '"in"' },
    ]);
  });

  it("records continueAsNew", () => {
    clock = T0;
    expect(
      replayActions(started(), [[{ actionType: ActionType.ContinueAsNew, input: { round: 2 } }]], options),
    ).toEqual({
      activities: [],
      timers: [],
      continueAsNew: { input: { round: 2 } },
    });
  });

  it("fails clearly on non-determinism, unknown activities and unsupported actions", () => {
    clock = T0;
    const history = [...started(), scheduled(0, "a")];
    expect(replayActions(history, [[call("b")]], options).failure).toMatch(
      /Non-deterministic workflow detected/,
    );
    expect(replayActions(started(), [[call("nope")]], options).failure).toMatch(
      /The function 'nope' doesn't exist, is disabled, or is not an activity function/,
    );
    expect(
      replayActions(started(), [[{ actionType: ActionType.CallSubOrchestrator, functionName: "x" }]], options)
        .failure,
    ).toMatch(/CallSubOrchestrator, which the local functions host does not support/);
    expect(replayActions(started(), [[call("a")], [call("b")]], options).failure).toMatch(/schema V2/);
  });
});

describe("replaying actions as the extension does on Azure Storage", () => {
  const DAY = 86_400_000;
  const at = (ms: number) => new Date(ms).toISOString();
  const timerAt = (ms: number, isCanceled = false) => ({
    actionType: ActionType.CreateTimer,
    fireAt: at(ms),
    isCanceled,
  });

  it("gives an event to the newest waiter of its name (a stack), not the oldest", () => {
    clock = T0;
    // Round 1: the timer won, its waiter stays registered; round 2 waits again; the event arrives.
    const round = (timerId: number) => ({
      actionType: ActionType.WhenAny,
      compoundActions: [wait("go"), { ...timer(), fireAt: at(T0 + timerId * 1000) }],
    });
    const history = [
      ...started(),
      timerCreated(0),
      ...episode(timerFired(0)),
      timerCreated(1),
      ...episode(ev(EventType.EventRaised, { Name: "go", Input: "1" })),
    ];
    expect(replayActions(history, [[round(0), round(1), call("a")]], options).activities).toEqual([
      { id: 2, name: "a", input: '"in"' },
    ]);
  });

  it("V3: splits a timer longer than the maximum into intervals, and V2 refuses it", () => {
    clock = T0;
    const v3 = { ...options, schemaVersion: 2 };
    expect(replayActions(started(), [[timerAt(T0 + 7 * DAY)]], v3).timers).toEqual([
      { id: 0, fireAt: at(T0 + 3 * DAY) },
    ]);
    // After the first part: another interval; with less than an interval left, the rest.
    const history = [...started(), timerCreated(0)];
    clock = T0 + 3 * DAY;
    const afterFirst = [...history, ...episode(timerFired(0))];
    expect(replayActions(afterFirst, [[timerAt(T0 + 7 * DAY + 1000)]], v3).timers).toEqual([
      { id: 1, fireAt: at(clock + 3 * DAY) },
    ]);
    clock = T0 + 6 * DAY;
    const afterSecond = [...afterFirst, timerCreated(1), ...episode(timerFired(1))];
    expect(replayActions(afterSecond, [[timerAt(T0 + 7 * DAY)]], v3).timers).toEqual([
      { id: 2, fireAt: at(T0 + 7 * DAY) },
    ]);
    clock = T0;
    expect(
      replayActions(started(), [[timerAt(T0 + 7 * DAY)]], { ...options, schemaVersion: 1 }).failure,
    ).toBe(
      "The Azure Storage provider supports a maximum of 6 days for time-based delays (Parameter 'fireAt')",
    );
  });

  it("V3: after a cancelled long timer, a timer due at the current time is not created", () => {
    clock = T0;
    const v3 = { ...options, schemaVersion: 2 };
    const history = [...started(), timerCreated(0), scheduled(1, "a"), ...episode(completed(1))];
    const now = clock; // the episode in which the activity's completion arrives
    const actions = (timeoutMs: number) => [
      [
        { actionType: ActionType.WhenAny, compoundActions: [wait("go"), timerAt(T0 + timeoutMs, true)] },
        call("a"),
        timerAt(now),
      ],
    ];
    // The extension's IsLongRunningTimer, left set by the cancelled 7-day timer: the loop
    // `while (now < fireAt)` never runs, no timer is created, durable-functions waits for task 2.
    expect(replayActions(history, actions(7 * DAY), v3)).toEqual({ activities: [], timers: [] });
    // After a cancelled 1-day timer the same timer due now is created.
    expect(replayActions(history, actions(DAY), v3)).toEqual({
      activities: [],
      timers: [{ id: 2, fireAt: at(now) }],
    });
  });
});
