// The task hub is kept under the state directory: a host that stops and starts again carries on
// with running instances, their pending waits and timers, and does nothing twice.
import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { newStateDir, startSampleHost } from "../functions-host/sample-host";

describe("restarting the host", () => {
  it("continues an orchestration waiting for an event; every activity runs exactly once", async () => {
    const stateDir = newStateDir();
    const first = await startSampleHost({ stateDir });
    await first.host.durable.client().startNew("approvalOrchestrator", {
      instanceId: "persisted-1",
      input: { timeoutMs: 60_000 },
    });
    await first.host.idle();
    expect((await first.host.durable.client().getStatus("persisted-1")).customStatus).toEqual({
      stage: "awaiting-approval",
    });
    await first.host.close();

    const second = await startSampleHost({ stateDir });
    try {
      const client = second.host.durable.client();
      const waiting = await client.getStatus("persisted-1");
      expect(waiting.runtimeStatus).toBe("Running");
      expect(waiting.customStatus).toEqual({ stage: "awaiting-approval" });
      await client.raiseEvent("persisted-1", "approval", { approver: "bob" });
      await second.host.idle();
      const done = await client.getStatus("persisted-1");
      expect(done.runtimeStatus).toBe("Completed");
      expect(done.output).toMatchObject({ prepared: "done:prepare", decision: { approver: "bob" } });
      const steps = second
        .effects()
        .filter((e) => e.instanceId === "persisted-1")
        .map((e) => e.step);
      expect(steps).toEqual(["prepare", 'apply:{"approver":"bob"}']);
      // The second host replayed the first host's history rather than starting over.
      const episodes = second.invocations("approvalOrchestrator");
      expect(episodes.length).toBeGreaterThan(0);
      expect(episodes.every((e) => e.isReplay === true)).toBe(true);
      expect(second.invocations("recordStep")).toHaveLength(1);
    } finally {
      await second.host.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("fires a durable timer that fell due while the host was down", async () => {
    const stateDir = newStateDir();
    const first = await startSampleHost({ stateDir });
    await first.host.durable.client().startNew("approvalOrchestrator", {
      instanceId: "persisted-timer",
      input: { timeoutMs: 300 },
    });
    await first.host.idle();
    await first.host.close();
    await new Promise((resolve) => setTimeout(resolve, 400));

    const second = await startSampleHost({ stateDir });
    try {
      const status = await second.host.durable.engine.waitForStatus(
        "persisted-timer",
        ["Completed", "Failed"],
        5000,
      );
      expect(status.output).toMatchObject({ decision: "timed-out" });
      const steps = second
        .effects()
        .filter((e) => e.instanceId === "persisted-timer")
        .map((e) => e.step);
      expect(steps).toEqual(["prepare", 'apply:"timed-out"']);
    } finally {
      await second.host.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
