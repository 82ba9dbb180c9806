// Orchestrations of the sample app run by the local Durable engine through durable-functions' own
// replay, observed through the library's DurableClient and the extension's HTTP API.
import * as df from "durable-functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventType, type HistoryEvent } from "../../../local/durable";
import type { HostLogEntry } from "../../../local/functions-host";
import { type SampleHost, startSampleHost } from "../functions-host/sample-host";

let sample: SampleHost;
let onLog: ((entry: HostLogEntry) => void) | undefined;
beforeAll(async () => {
  sample = await startSampleHost({ onLog: (entry) => onLog?.(entry) });
});
afterAll(async () => {
  await sample.host.close();
});

const functionKey = () => ({ "x-functions-key": sample.host.keys.function });
const eventTypes = (events: readonly HistoryEvent[]) =>
  events.map((e) => EventType[e.EventType as never] ?? e.EventType);
const rawHistory = (instanceId: string) =>
  (sample.host.durable.engine.instance(instanceId)?.history ?? []).map(
    (e) => Object.entries(EventType).find(([, v]) => v === e.EventType)?.[0],
  );
const stepsOf = (instanceId: string) =>
  sample
    .effects()
    .filter((e) => e.instanceId === instanceId)
    .map((e) => e.step ?? `${e.name}#${e.attempt}`);

describe("an orchestration with an external event", () => {
  it("runs to completion through the HTTP starter, the event winning over the timer", async () => {
    const start = await fetch(`${sample.host.url}/api/approvals/order-1`, {
      method: "POST",
      headers: functionKey(),
      body: JSON.stringify({ timeoutMs: 60_000 }),
    });
    expect(start.status).toBe(202);
    const links = (await start.json()) as Record<string, string>;
    expect(links.id).toBe("order-1");
    expect(links.statusQueryGetUri).toMatch(
      new RegExp(
        `^${sample.host.url}/runtime/webhooks/durabletask/instances/order-1\\?taskHub=TestHubName&connection=Storage&code=`,
      ),
    );
    expect(start.headers.get("location")).toBe(links.statusQueryGetUri);
    await sample.host.idle();

    const client = sample.host.durable.client();
    const waiting = await client.getStatus("order-1");
    expect(waiting.runtimeStatus).toBe("Running");
    expect(waiting.customStatus).toEqual({ stage: "awaiting-approval" });
    expect(waiting.input).toEqual({ timeoutMs: 60_000 });
    const polled = await fetch(links.statusQueryGetUri ?? "");
    expect(polled.status).toBe(202);

    const approve = await fetch(`${sample.host.url}/api/approvals/order-1/approve`, {
      method: "POST",
      headers: functionKey(),
      body: JSON.stringify({ approver: "alice" }),
    });
    expect(approve.status).toBe(202);
    await sample.host.idle();

    const done = await client.getStatus("order-1");
    expect(done.runtimeStatus).toBe("Completed");
    expect(done.output).toEqual({
      prepared: "done:prepare",
      decision: { approver: "alice" },
      applied: 'done:apply:{"approver":"alice"}',
    });
    expect(done.customStatus).toEqual({ stage: "done" });
    expect(done.createdTime).toBeInstanceOf(Date);
    expect(done.lastUpdatedTime.getTime()).toBeGreaterThanOrEqual(done.createdTime.getTime());
    expect(stepsOf("order-1")).toEqual(["prepare", 'apply:{"approver":"alice"}']);

    // The history as the extension's status query shows it.
    const withHistory = await fetch(`${links.statusQueryGetUri}&showHistory=true&showHistoryOutput=true`);
    expect(withHistory.status).toBe(200);
    const status = (await withHistory.json()) as { historyEvents: Record<string, unknown>[] };
    expect(status.historyEvents.map((e) => e.EventType)).toEqual([
      "ExecutionStarted",
      "TaskCompleted",
      "TimerCreated",
      "EventRaised",
      "TaskCompleted",
      "ExecutionCompleted",
    ]);
    expect(status.historyEvents[1]).toMatchObject({ FunctionName: "recordStep", Result: "done:prepare" });
    expect(status.historyEvents[5]).toMatchObject({ OrchestrationStatus: "Completed", Result: done.output });

    // Each episode is one orchestrator invocation, logged with the instance id.
    const episodes = sample.invocations("approvalOrchestrator").filter((e) => e.instanceId === "order-1");
    expect(episodes.map((e) => e.isReplay)).toEqual([false, true, true, true]);
    expect(sample.invocations("recordStep").filter((e) => e.instanceId === "order-1")).toHaveLength(2);
  });

  it("completes by the timer when no event comes", async () => {
    const client = sample.host.durable.client();
    await client.startNew("approvalOrchestrator", { instanceId: "order-timeout", input: { timeoutMs: 150 } });
    const status = await sample.host.durable.engine.waitForStatus(
      "order-timeout",
      ["Completed", "Failed"],
      5000,
    );
    expect(status.output).toMatchObject({ decision: "timed-out", applied: 'done:apply:"timed-out"' });
    expect(rawHistory("order-timeout")).toContain("TimerFired");
    expect(stepsOf("order-timeout")).toEqual(["prepare", 'apply:"timed-out"']);
  });

  it("queues an event raised before the orchestrator waits for it", async () => {
    const engine = sample.host.durable.engine;
    expect(
      engine.startNew("approvalOrchestrator", "order-early", JSON.stringify({ timeoutMs: 60_000 })),
    ).toEqual({
      kind: "started",
      instanceId: "order-early",
    });
    expect(engine.raiseEvent("order-early", "approval", JSON.stringify("early"))).toBe("accepted");
    await sample.host.idle();
    const status = await sample.host.durable.client().getStatus("order-early");
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toMatchObject({ decision: "early" });
    const history = rawHistory("order-early");
    expect(history.indexOf("EventRaised")).toBeLessThan(history.indexOf("TimerCreated"));
  });

  it("refuses to start an instance id that is running, and starts it again once it completed", async () => {
    const client = sample.host.durable.client();
    await client.startNew("approvalOrchestrator", { instanceId: "order-dup", input: { timeoutMs: 60_000 } });
    await sample.host.idle();
    await expect(
      client.startNew("approvalOrchestrator", { instanceId: "order-dup", input: { timeoutMs: 1 } }),
    ).rejects.toThrow(/status code: 409.*already exists/);
    const viaStarter = await fetch(`${sample.host.url}/api/approvals/order-dup`, {
      method: "POST",
      headers: functionKey(),
      body: JSON.stringify({ timeoutMs: 1 }),
    });
    expect(viaStarter.status).toBe(409);

    await client.raiseEvent("order-dup", "approval", "first");
    await sample.host.idle();
    expect((await client.getStatus("order-dup")).runtimeStatus).toBe("Completed");
    await client.startNew("approvalOrchestrator", { instanceId: "order-dup", input: { timeoutMs: 60_000 } });
    await sample.host.idle();
    const again = await client.getStatus("order-dup");
    expect(again.runtimeStatus).toBe("Running");
    expect(again.output).toBeNull();
  });

  it("terminates and purges an instance; raising to a finished instance is accepted and ignored", async () => {
    const client = sample.host.durable.client();
    await client.startNew("approvalOrchestrator", { instanceId: "order-stop", input: { timeoutMs: 60_000 } });
    await sample.host.idle();
    await client.terminate("order-stop", "no longer needed");
    await sample.host.idle();
    const stopped = await client.getStatus("order-stop");
    expect(stopped.runtimeStatus).toBe("Terminated");
    expect(stopped.output).toBe("no longer needed");
    await client.raiseEvent("order-stop", "approval", "late");
    await sample.host.idle();
    expect(stepsOf("order-stop")).toEqual(["prepare"]);
    expect(await client.purgeInstanceHistory("order-stop")).toEqual({ instancesDeleted: 1 });
    await expect(client.getStatus("order-stop")).rejects.toThrow(/404/);
    await expect(client.raiseEvent("order-missing", "approval", 1)).rejects.toThrow(
      /No instance with ID 'order-missing'/,
    );
  });
});

describe("the Durable extension's HTTP API", () => {
  it("needs the durabletask system key on the public webhook, and refuses to purge a running instance", async () => {
    const client = sample.host.durable.client();
    await client.startNew("approvalOrchestrator", { instanceId: "api-1", input: { timeoutMs: 60_000 } });
    await sample.host.idle();
    const links = client.createHttpManagementPayload("api-1");
    const statusUrl = new URL(links.statusQueryGetUri);
    expect(statusUrl.origin).toBe(sample.host.url);
    expect((await fetch(statusUrl)).status).toBe(202);
    statusUrl.searchParams.delete("code");
    expect((await fetch(statusUrl)).status).toBe(401);
    const purge = await fetch(links.purgeHistoryDeleteUri, { method: "DELETE" });
    expect(purge.status).toBe(412);
    const list = await client.getStatusBy({ runtimeStatus: [df.OrchestrationRuntimeStatus.Running] });
    expect(list.map((s) => s.instanceId)).toContain("api-1");
    await client.terminate("api-1", "done testing");
    await sample.host.idle();
    expect((await fetch(links.purgeHistoryDeleteUri, { method: "DELETE" })).status).toBe(200);
  });
});

describe("activity failures and retries", () => {
  it("retries a failing activity with callActivityWithRetry until it succeeds", async () => {
    const client = sample.host.durable.client();
    await client.startNew("retryOrchestrator", { instanceId: "retry-ok", input: { failTimes: 2 } });
    const status = await sample.host.durable.engine.waitForStatus("retry-ok", ["Completed", "Failed"], 5000);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual({ attempts: 3 });
    expect(stepsOf("retry-ok")).toEqual(["flaky#1", "flaky#2", "flaky#3"]);
    const history = rawHistory("retry-ok");
    expect(history.filter((e) => e === "TaskFailed")).toHaveLength(2);
    expect(history.filter((e) => e === "TimerFired")).toHaveLength(2);
  });

  it("fails the orchestration with the activity's error once the attempts run out", async () => {
    const client = sample.host.durable.client();
    await client.startNew("retryOrchestrator", { instanceId: "retry-fail", input: { failTimes: 5 } });
    const status = await sample.host.durable.engine.waitForStatus(
      "retry-fail",
      ["Completed", "Failed"],
      5000,
    );
    expect(status.runtimeStatus).toBe("Failed");
    expect(String(status.output)).toMatch(
      /^Orchestrator function 'retryOrchestrator' failed: Activity function 'flaky' failed: flaky failure 3/,
    );
    expect(stepsOf("retry-fail")).toEqual(["flaky#1", "flaky#2", "flaky#3"]);
    expect((await client.getStatus("retry-fail")).runtimeStatus).toBe("Failed");
  });
});

describe("continueAsNew", () => {
  it("starts a new execution with the new input, carrying over an event raised meanwhile", async () => {
    const engine = sample.host.durable.engine;
    onLog = (entry) => {
      // Raised while the episode that calls continueAsNew runs: not in the old execution's history.
      if (entry.kind === "log" && entry.instanceId === "eternal-1" && entry.message === "continuing as new") {
        engine.raiseEvent("eternal-1", "go", JSON.stringify("carried"));
      }
    };
    try {
      await sample.host.durable
        .client()
        .startNew("eternalOrchestrator", { instanceId: "eternal-1", input: { round: 0 } });
      const status = await engine.waitForStatus("eternal-1", ["Completed", "Failed"], 5000);
      expect(status.output).toEqual({ round: 1, go: "carried" });
      expect(status.input).toEqual({ round: 1 });
      expect(stepsOf("eternal-1")).toEqual(["round-0", "round-1"]);
      const history = engine.instance("eternal-1")?.history ?? [];
      const started = history.find((e) => e.EventType === EventType.ExecutionStarted);
      expect(started?.Input).toBe('{"round":1}');
      expect(eventTypes(history)).not.toContain("ContinueAsNew");
    } finally {
      onLog = undefined;
    }
  });
});
