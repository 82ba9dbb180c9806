// The local Durable engine behaves like the Durable extension on Azure Storage where an app depends
// on it (issue 15): the 16 KB custom status limit, replay schema V3+ with long timers split by the
// provider's maximum, events to the newest waiter first, the immediate timer after a final failed
// retry, and, as options, non-atomic starts, at-least-once activities and events reordered within a
// batch. Each test runs a small app (./fixtures/strict-app.ts) on the local functions host.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_BEHAVIOUR, durableBehaviour, EventType, type HistoryEvent } from "../../../local/durable";
import { type FunctionsHost, type HostLogEntry, startFunctionsHost } from "../../../local/functions-host";

const FIXTURE = path.join(__dirname, "fixtures", "strict-app.ts");
const DAY = 86_400_000;

interface StrictHost {
  host: FunctionsHost;
  logs: HostLogEntry[];
}

let current: { host: FunctionsHost; stateDir: string } | undefined;
afterEach(async () => {
  if (current === undefined) return;
  await current.host.close();
  rmSync(current.stateDir, { recursive: true, force: true });
  current = undefined;
});

async function strictHost(durable?: Record<string, unknown>): Promise<StrictHost> {
  const stateDir = mkdtempSync(path.join(tmpdir(), "local-durable-strict-"));
  const logs: HostLogEntry[] = [];
  const host = await startFunctionsHost({
    entryFiles: [FIXTURE],
    port: 0,
    stateDir,
    runTimers: false,
    keys: { master: "test-master-key", function: "test-function-key" },
    logger: (entry) => logs.push(entry),
    ...(durable === undefined ? {} : { durable }),
  }).catch((error: unknown) => {
    rmSync(stateDir, { recursive: true, force: true });
    throw error;
  });
  current = { host, stateDir };
  return { host, logs };
}

const history = (host: FunctionsHost, instanceId: string): HistoryEvent[] =>
  host.durable.engine.instance(instanceId)?.history ?? [];
const ofType = (events: readonly HistoryEvent[], type: number) => events.filter((e) => e.EventType === type);
const runs = (key: string) =>
  (globalThis as unknown as { __strictAppRuns?: Map<string, number> }).__strictAppRuns?.get(key) ?? 0;

describe("custom status over 16 KB fails the instance", () => {
  it("measures the JSON text in UTF-16 as the extension does (whole KB, must not exceed 16)", async () => {
    const { host } = await strictHost();
    const engine = host.durable.engine;
    const start = (id: string, char: string, count: number) =>
      engine.startNew("statusOfSize", id, JSON.stringify({ char, count }));
    // JSON text `"aaa…"`: count + 2 code units; 8,703 units = 17,406 bytes = 16 KB (truncated).
    start("status-fits", "a", 8_701);
    // 8,704 units = 17,408 bytes = 17 KB: over the limit.
    start("status-over", "a", 8_702);
    // 8,000 CJK characters: 16,004 bytes in UTF-16 (24,002 in UTF-8): fits.
    start("status-cjk", "中", 8_000);
    await host.idle();

    const fits = engine.getStatus("status-fits");
    expect(fits?.runtimeStatus).toBe("Completed");
    expect(fits?.customStatus).toBe("a".repeat(8_701));
    expect(engine.getStatus("status-cjk")?.runtimeStatus).toBe("Completed");

    const over = engine.getStatus("status-over");
    expect(over?.runtimeStatus).toBe("Failed");
    expect(over?.output).toBe(
      "Orchestrator function 'statusOfSize' failed: The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 17 KB.",
    );
    // The status keeps its previous value and nothing the episode asked for was scheduled.
    expect(over?.customStatus).toBeNull();
    expect(ofType(history(host, "status-over"), EventType.TaskScheduled)).toHaveLength(0);
  });

  it("can be given another limit", async () => {
    const { host } = await strictHost({ customStatusLimitKB: 1 });
    // 1,100 units: 2,200 bytes, 2 KB.
    host.durable.engine.startNew("statusOfSize", "limit-1", JSON.stringify({ char: "a", count: 1_098 }));
    await host.idle();
    expect(host.durable.engine.getStatus("limit-1")?.output).toBe(
      "Orchestrator function 'statusOfSize' failed: The UTF-16 size of the JSON-serialized payload must not exceed 1 KB. The current payload size is 2 KB.",
    );
  });

  it("or none (customStatusLimitKB: null)", async () => {
    const { host } = await strictHost({ customStatusLimitKB: null });
    host.durable.engine.startNew("statusOfSize", "no-limit", JSON.stringify({ char: "a", count: 20_000 }));
    await host.idle();
    expect(host.durable.engine.getStatus("no-limit")?.runtimeStatus).toBe("Completed");
  });
});

describe("replay schema V3+ and long timers", () => {
  it("advertises the extension's schema and splits a 7-day timer into 3-day timers", async () => {
    const { host } = await strictHost();
    host.durable.engine.startNew("longWait", "long-7d", JSON.stringify({ delayMs: 7 * DAY }));
    await host.idle();
    const events = history(host, "long-7d");
    const started = Date.parse(events[0]?.Timestamp ?? "");
    const created = ofType(events, EventType.TimerCreated);
    expect(created.map((e) => e.FireAt)).toEqual([new Date(started + 3 * DAY).toISOString()]);
    expect(host.durable.engine.instance("long-7d")?.timers.map((t) => t.fireAt)).toEqual([
      new Date(started + 3 * DAY).toISOString(),
    ]);
  });

  it("runs the extension's long-timer loop with a configured maximum and interval", async () => {
    const { host } = await strictHost({ maximumShortTimerMs: 400, longRunningTimerIntervalMs: 200 });
    host.durable.engine.startNew("longWait", "long-short", JSON.stringify({ delayMs: 900 }));
    const status = await host.durable.engine.waitForStatus("long-short", ["Completed", "Failed"], 5_000);
    expect(status.runtimeStatus).toBe("Completed");
    const events = history(host, "long-short");
    const started = Date.parse(events[0]?.Timestamp ?? "");
    const fireAts = ofType(events, EventType.TimerCreated).map((e) => Date.parse(String(e.FireAt)));
    expect(fireAts.length).toBeGreaterThanOrEqual(3);
    expect(fireAts[0]).toBe(started + 200);
    for (const at of fireAts) expect(at).toBeLessThanOrEqual(Date.parse(String(status.output)));
  });

  it("keeps the long-timer flag after a cancelled long timer: a timer due now is never created", async () => {
    // On the extension, a cancelled long timer leaves IsLongRunningTimer set; the next CreateTimer
    // due at the current time then schedules nothing while durable-functions waits for it.
    const { host } = await strictHost();
    const engine = host.durable.engine;
    engine.startNew("cancelledLongTimerThenNow", "stuck-1", JSON.stringify({ timeoutMs: 7 * DAY }));
    engine.raiseEvent("stuck-1", "go", JSON.stringify("now"));
    await host.idle();
    const record = engine.instance("stuck-1");
    expect(record?.runtimeStatus).toBe("Running");
    expect(record?.activities).toEqual([]);
    expect(record?.inbox).toEqual([]);
    // Only the cancelled long timer's first 3-day part is pending; the "now" timer does not exist.
    expect(record?.timers).toHaveLength(1);
    expect(ofType(record?.history ?? [], EventType.TimerCreated)).toHaveLength(1);
  });

  it("on schema V2, fails a timer longer than the provider's maximum as the extension does", async () => {
    const { host } = await strictHost({ replaySchema: "V2" });
    host.durable.engine.startNew("longWait", "long-v2", JSON.stringify({ delayMs: 7 * DAY }));
    await host.idle();
    const status = host.durable.engine.getStatus("long-v2");
    expect(status?.runtimeStatus).toBe("Failed");
    expect(String(status?.output)).toContain(
      "The Azure Storage provider supports a maximum of 6 days for time-based delays",
    );
  });
});

describe("external events", () => {
  it("go to the newest waiter of that name first, as the extension's stack of waiters", async () => {
    const { host } = await strictHost();
    const engine = host.durable.engine;
    engine.startNew("leftoverWaiter", "lifo-1", JSON.stringify({ firstWindowMs: 100 }));
    const deadline = Date.now() + 5_000;
    while (ofType(history(host, "lifo-1"), EventType.TimerFired).length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await host.idle();
    engine.raiseEvent("lifo-1", "go", JSON.stringify("x"));
    await host.idle();
    const status = engine.getStatus("lifo-1");
    expect(status?.runtimeStatus).toBe("Completed");
    expect(status?.output).toBe("x");
  });
});

describe("retries", () => {
  it("the timer after the final failed attempt is due at once (DurableTask's back-compat timer)", async () => {
    const { host } = await strictHost();
    const engine = host.durable.engine;
    engine.startNew("retryAlwaysFailing", "retry-last", JSON.stringify({ firstRetryMs: 300, attempts: 2 }));
    // A full backoff after the last attempt would be 300 ms × 10 = 3 s.
    const status = await engine.waitForStatus("retry-last", ["Completed", "Failed"], 2_500);
    expect(status.runtimeStatus).toBe("Failed");
    expect(runs("retry-last")).toBe(2);
    const timers = ofType(history(host, "retry-last"), EventType.TimerCreated);
    expect(timers).toHaveLength(2);
    expect(Date.parse(String(timers[0]?.FireAt)) - Date.parse(String(timers[0]?.Timestamp))).toBe(300);
    expect(timers[1]?.FireAt).toBe(timers[1]?.Timestamp);
  });
});

describe("starts", () => {
  const startTwice = (host: FunctionsHost, instanceId: string) => {
    const client = host.durable.client();
    return Promise.allSettled([
      client.startNew("twoItems", { instanceId, input: { who: "first" } }),
      client.startNew("twoItems", { instanceId, input: { who: "second" } }),
    ]);
  };

  it("racy: two simultaneous starts of one instance id both succeed; the later one's input is dropped", async () => {
    const { host, logs } = await strictHost({ starts: "racy", startRaceWindowMs: 300 });
    const outcomes = await startTwice(host, "race-1");
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled"]);
    await host.idle();
    const status = host.durable.engine.getStatus("race-1");
    expect(status?.runtimeStatus).toBe("Running");
    expect([{ who: "first" }, { who: "second" }]).toContainEqual(status?.input);
    expect(ofType(history(host, "race-1"), EventType.ExecutionStarted)).toHaveLength(1);
    expect(
      logs.filter((entry) => entry.kind === "host" && /start dropped/i.test(String(entry.message))),
    ).toHaveLength(1);
  });

  it("atomic (an option): the later of two simultaneous starts is refused (409)", async () => {
    const { host } = await strictHost({ starts: "atomic" });
    const outcomes = await startTwice(host, "race-2");
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    const refused = outcomes.find((o) => o.status === "rejected");
    expect(String((refused as PromiseRejectedResult).reason)).toMatch(/409/);
  });
});

describe("at-least-once activities (option)", () => {
  it("rerun: each activity runs twice and the orchestrator gets the second outcome", async () => {
    const { host } = await strictHost({ activityDelivery: "rerun" });
    host.durable.engine.startNew("countOnce", "rerun-1", null);
    await host.idle();
    const status = host.durable.engine.getStatus("rerun-1");
    expect(status?.runtimeStatus).toBe("Completed");
    expect(runs("rerun-1")).toBe(2);
    expect(status?.output).toBe(2);
    expect(ofType(history(host, "rerun-1"), EventType.TaskCompleted)).toHaveLength(1);
  });

  it("duplicate: each activity runs twice and both completions reach the history; the first counts", async () => {
    const { host } = await strictHost({ activityDelivery: "duplicate" });
    const engine = host.durable.engine;
    engine.startNew("countThenWait", "dup-1", null);
    await host.idle();
    expect(runs("dup-1")).toBe(2);
    const completed = ofType(history(host, "dup-1"), EventType.TaskCompleted);
    expect(completed.map((e) => [e.TaskScheduledId, e.Result])).toEqual([
      [0, "1"],
      [0, "2"],
    ]);
    engine.raiseEvent("dup-1", "finish", null);
    await host.idle();
    const status = engine.getStatus("dup-1");
    expect(status?.runtimeStatus).toBe("Completed");
    expect(status?.output).toBe(1);
  });
});

describe("events reordered within one batch (option)", () => {
  it("reverse: two events delivered in one batch reach the orchestrator last first", async () => {
    const { host } = await strictHost({ batchOrder: "reverse" });
    const engine = host.durable.engine;
    engine.startNew("twoItems", "order-1", null);
    engine.raiseEvent("order-1", "item", JSON.stringify(1));
    engine.raiseEvent("order-1", "item", JSON.stringify(2));
    await host.idle();
    const status = engine.getStatus("order-1");
    expect(status?.runtimeStatus).toBe("Completed");
    expect(status?.output).toEqual([2, 1]);
    // ExecutionStarted stays first.
    expect(history(host, "order-1")[1]?.EventType).toBe(EventType.ExecutionStarted);
  });
});

describe("the options", () => {
  it("default to the extension on Azure Storage, and bad values are refused before the host starts", async () => {
    expect(DEFAULT_BEHAVIOUR).toEqual({
      customStatusLimitKB: 16,
      replaySchema: "V4",
      maximumShortTimerMs: 6 * DAY,
      longRunningTimerIntervalMs: 3 * DAY,
      starts: "racy",
      startRaceWindowMs: 50,
      activityDelivery: "once",
      batchOrder: "arrival",
      batchOrderSeed: 1,
    });
    expect(() => durableBehaviour({ replaySchema: "V9" as never })).toThrow(/replaySchema must be one of/);
    expect(() => durableBehaviour({ maximumShortTimerMs: 100, longRunningTimerIntervalMs: 200 })).toThrow(
      /must not exceed maximumShortTimerMs/,
    );
    await expect(strictHost({ activityDelivery: "twice" })).rejects.toThrow(
      /activityDelivery must be one of/,
    );
  });
});
