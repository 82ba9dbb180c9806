// GET /api/status for a reconciler that has ended: it reads no more events, so whatever its last
// custom status said, nothing waits. An approval it offered must not be shown as pending (the estate
// and approval pages already settle it so; the status API must agree with them).
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { instanceIdFor } from "../../orchestrations/instance-id";
import { POLICY_ID } from "../local/arm-emulator-helpers";
import { type AppUnderTest, startApp } from "./app-harness";

const clusterEvent = () => ({
  ...(JSON.parse(
    fs.readFileSync(path.join(__dirname, "..", "fixtures", "events", "cluster-write.eventgrid.json"), "utf8"),
  ) as Record<string, unknown>),
  id: "7c000000-0000-4000-8000-000000000001",
});

let app: AppUnderTest | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe("GET /api/status of an ended reconciler", () => {
  it("a terminated reconciler that was awaiting approval reads idle, with no approval pending", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "approve" } });
    await app.sendEvents([clusterEvent()]);
    const waiting = await app.waitForPhase("awaiting-approval");
    expect(waiting.pendingApproval).toBeDefined();
    const terminated = await app.durable(`instances/${instanceIdFor(POLICY_ID)}/terminate?reason=test`, {
      method: "POST",
    });
    expect(terminated.status).toBe(202);
    const deadline = Date.now() + 20_000;
    let status = await app.status();
    while (status.runtimeStatus !== "Terminated" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = await app.status();
    }
    expect(status.runtimeStatus).toBe("Terminated");
    expect(status.phase).toBe("idle");
    expect(status.pendingApproval).toBeUndefined();
    // What it last did stays readable.
    expect(status.policyId).toBe(POLICY_ID);
  }, 60_000);
});
