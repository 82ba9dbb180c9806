// The reconciler end to end: real Event Grid payloads into the app's real functions, orchestrations
// through the real durable-functions replay, activities through the real SDK against the emulator.
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createApprovalToken } from "../../orchestrations/approval-token";
import { instanceIdFor } from "../../orchestrations/instance-id";
import { POLICY_ID } from "../local/arm-emulator-helpers";
import { type AppUnderTest, SIGNING_KEY, startApp } from "./app-harness";

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "events", name), "utf8"));
const clusterEvent = (id = "5b4f3c2a-1111-4222-8333-944455556666") => ({
  ...fixture("cluster-write.eventgrid.json"),
  id,
});
const principal = (name: string) =>
  Buffer.from(
    JSON.stringify({ auth_typ: "aad", name_typ: "name", claims: [{ typ: "name", val: name }] }),
  ).toString("base64");

let app: AppUnderTest | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe("reconciler: modes", () => {
  it("auto: a cluster event leads to one pass and one PUT, and the status says so", async () => {
    app = await startApp();
    expect(await app.sendEvents([clusterEvent()])).toBe(202);
    const status = await app.waitForPass(1);
    expect(status.last).toMatchObject({ pass: 1, outcome: "applied" });
    expect(status.last?.clusterCount).toBe(1);
    expect(app.successfulPuts()).toBe(1);
    expect(app.events("AksEgressGuard.PlanApplied")).toEqual([
      expect.objectContaining({ writes: 1, converged: true, outcome: "applied" }),
    ]);
  });

  it("audit: drift is reported and nothing is written", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "audit" } });
    await app.sendEvents([clusterEvent()]);
    expect((await app.waitForPass(1)).last).toMatchObject({ outcome: "reported" });
    expect(app.successfulPuts()).toBe(0);
  });
});

describe("reconciler: coalescing and events", () => {
  it("a burst of 50 events is one pass and one PUT", async () => {
    app = await startApp({ settings: { AKS_EGRESS_DEBOUNCE_SECONDS: "2" } });
    const events = Array.from({ length: 50 }, (_, i) =>
      clusterEvent(`00000000-0000-4000-8000-${String(i).padStart(12, "0")}`),
    );
    for (let i = 0; i < 50; i += 10) expect(await app.sendEvents(events.slice(i, i + 10))).toBe(202);
    const status = await app.waitForPass(1);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await app.status()).last?.pass).toBe(status.last?.pass);
    expect(app.successfulPuts()).toBe(1);
    expect(app.events("AksEgressGuard.PassStarted")).toHaveLength(1);
    // The count is exact; the log and the status keep the first five reasons (bounded whatever the burst).
    expect(app.events("AksEgressGuard.PassStarted")[0]).toMatchObject({ reasonCount: 50 });
    expect(app.events("AksEgressGuard.PassStarted")[0]?.reasons).toHaveLength(5);
  });

  it("an event that arrives while a pass reads the estate starts the next pass (no leftover waiter eats it)", async () => {
    app = await startApp();
    // The pass's read is slow (a throttled cluster list), so the second event lands during it.
    app.emulator.injectFault({
      kind: "throttle",
      method: "GET",
      pathContains: "managedClusters",
      retryAfterSeconds: 2,
      times: 1,
    });
    await app.sendEvents([clusterEvent()]);
    await app.waitForPhase("planning");
    await app.sendEvents([clusterEvent("5b4f3c2a-1111-4222-8333-9444555500bb")]);
    await app.waitForPass(2, 30_000);
    const started = app.events("AksEgressGuard.PassStarted");
    expect(started).toHaveLength(2);
    expect(started[1]).toMatchObject({ pass: 2, reasonCount: 1 });
  }, 40_000);

  it("the same event delivered three times is one pass", async () => {
    app = await startApp();
    for (let i = 0; i < 3; i++) await app.sendEvents([clusterEvent()]);
    await app.waitForPass(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(app.events("AksEgressGuard.PassStarted")).toHaveLength(1);
    expect(app.successfulPuts()).toBe(1);
  });

  it("an event the app's own identity caused is dropped: no pass, no write", async () => {
    app = await startApp();
    expect(await app.sendEvents([fixture("rcg-write-by-app.eventgrid.json")])).toBe(202);
    await app.host.idle();
    expect(app.events("AksEgressGuard.EventDropped")).toEqual([
      expect.objectContaining({ reason: "caused by this app's own identity" }),
    ]);
    expect((await app.status()).runtimeStatus).toBe("NotStarted");
    expect(app.emulator.requests()).toEqual([]);
  });

  it("a malformed event is dropped with a log line, not retried", async () => {
    app = await startApp();
    expect(await app.sendEvents([{ hello: "world" }])).toBe(202);
    await app.host.idle();
    expect(app.events("AksEgressGuard.EventDropped")).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/^malformed event/) }),
    ]);
    expect((await app.status()).runtimeStatus).toBe("NotStarted");
  });

  it("retries a pass through transient ARM failures", async () => {
    app = await startApp();
    // More 500s than the SDK's own three retries: the activity fails once and the orchestrator retries it.
    app.emulator.injectFault({
      kind: "serverError",
      method: "GET",
      pathContains: "firewallPolicies/fw-policy",
      times: 5,
    });
    await app.sendEvents([clusterEvent()]);
    const status = await app.waitForPass(1, 30_000);
    expect(status.last).toMatchObject({ outcome: "applied" });
    expect(app.successfulPuts()).toBe(1);
    expect(
      app.logs.some(
        (l) => l.kind === "invocation" && l.functionName === "gatherAndPlan" && l.result === "Failed",
      ),
    ).toBe(true);
  }, 40_000);
});

describe("reconciler: approvals", () => {
  it("approve: GET shows the plan and never approves; POST approves once; the approver is recorded", async () => {
    app = await startApp({
      settings: { AKS_EGRESS_MODE: "approve", AKS_EGRESS_APPROVER_AUTH: "appservice" },
    });
    await app.sendEvents([clusterEvent()]);
    const waiting = await app.waitForPhase("awaiting-approval");
    expect(JSON.stringify(waiting)).not.toContain("token="); // the status never hands out the link
    const [link] = app.approvalLinks();
    if (link === undefined) throw new Error("no approval link was logged");

    const shown = await fetch(link);
    expect(shown.status).toBe(200);
    const body = (await shown.json()) as { plan: string; changeHash: string; policyId: string };
    expect(body.plan).toMatch(/Plan: \d+ to add/);
    expect(body.policyId).toBe(POLICY_ID);
    const html = await fetch(link, { headers: { Accept: "text/html" } });
    expect(await html.text()).toContain("Approve and apply");
    expect(html.headers.get("content-security-policy")).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
    expect(html.headers.get("referrer-policy")).toBe("no-referrer");
    expect(html.headers.get("x-content-type-options")).toBe("nosniff");
    await new Promise((r) => setTimeout(r, 500));
    expect(app.successfulPuts()).toBe(0);

    const decided = await fetch(link, {
      method: "POST",
      headers: { "Content-Type": "application/json", "x-ms-client-principal": principal("Ada Lovelace") },
      body: JSON.stringify({ decision: "approve", comment: "CAB-42" }),
    });
    expect(decided.status).toBe(200);
    expect(await decided.json()).toMatchObject({
      decided: "approve",
      tookEffect: true,
      approver: "Ada Lovelace",
    });
    const status = await app.waitForPass(1);
    expect(status.last).toMatchObject({ outcome: "applied", approver: "Ada Lovelace" });
    expect(app.successfulPuts()).toBe(1);
    expect(app.events("AksEgressGuard.ApprovalDecided")).toEqual([
      expect.objectContaining({ decision: "approve", approver: "Ada Lovelace", comment: "CAB-42" }),
    ]);

    // Single use: the same link cannot decide again.
    const replay = await fetch(link, {
      method: "POST",
      headers: { "Content-Type": "application/json", "x-ms-client-principal": principal("Ada Lovelace") },
      body: JSON.stringify({ decision: "approve" }),
    });
    expect(replay.status).toBe(409);
    expect(await replay.json()).toMatchObject({ decided: { decision: "approve", approver: "Ada Lovelace" } });
  });

  it("without App Service Authentication in front, a principal header is not trusted", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "approve" } });
    await app.sendEvents([clusterEvent()]);
    await app.waitForPhase("awaiting-approval");
    const [link] = app.approvalLinks();
    const decided = await fetch(link ?? "", {
      method: "POST",
      headers: { "Content-Type": "application/json", "x-ms-client-principal": principal("The CISO") },
      body: JSON.stringify({ decision: "approve" }),
    });
    expect(decided.status).toBe(200);
    expect((await app.waitForPass(1)).last).toMatchObject({ approver: "unauthenticated link holder" });
  });

  it("with App Service Authentication in front, a decision without a signed-in user is refused", async () => {
    app = await startApp({
      settings: { AKS_EGRESS_MODE: "approve", AKS_EGRESS_APPROVER_AUTH: "appservice" },
    });
    await app.sendEvents([clusterEvent()]);
    await app.waitForPhase("awaiting-approval");
    const [link] = app.approvalLinks();
    const anonymous = await fetch(link ?? "", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ decision: "approve" }),
    });
    expect(anonymous.status).toBe(401);
    expect((await app.status()).phase).toBe("awaiting-approval");
  });

  it("checks the token before reading the body, and refuses bodies over 16 KB", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "approve" } });
    await app.sendEvents([clusterEvent()]);
    await app.waitForPhase("awaiting-approval");
    const [link] = app.approvalLinks();
    const big = JSON.stringify({ decision: "approve", comment: "x".repeat(20_000) });
    const tooLarge = await fetch(link ?? "", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: big,
    });
    expect(tooLarge.status).toBe(413);
    const url = new URL(link ?? "");
    url.searchParams.set("token", "forged.token");
    const forged = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: big,
    });
    expect(forged.status).toBe(403);
    expect((await app.status()).phase).toBe("awaiting-approval");
  });

  it("reject: nothing is written and the drift stays reported", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "approve" } });
    await app.sendEvents([clusterEvent()]);
    await app.waitForPhase("awaiting-approval");
    const [link] = app.approvalLinks();
    const form = await fetch(link ?? "", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "decision=reject&comment=not+now",
    });
    expect(form.status).toBe(200);
    expect((await app.waitForPass(1)).last).toMatchObject({ outcome: "rejected" });
    expect(app.successfulPuts()).toBe(0);
  });

  it("timeout: the approval expires, nothing is written, the link stops working", async () => {
    app = await startApp({
      settings: { AKS_EGRESS_MODE: "approve", AKS_EGRESS_APPROVAL_TIMEOUT_MINUTES: "0.05" },
    });
    await app.sendEvents([clusterEvent()]);
    await app.waitForPhase("awaiting-approval");
    const [link] = app.approvalLinks();
    expect((await app.waitForPass(1)).last).toMatchObject({ outcome: "expired" });
    expect(app.successfulPuts()).toBe(0);
    const late = await fetch(link ?? "", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ decision: "approve" }),
    });
    expect([403, 410]).toContain(late.status);
    expect(app.successfulPuts()).toBe(0);
  });

  it("superseded: the drift changes while waiting, the old link dies, a new approval is asked", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "approve" } });
    await app.sendEvents([clusterEvent()]);
    const first = await app.waitForPhase("awaiting-approval");
    const [oldLink] = app.approvalLinks();
    // Someone adds a Windows pool to the cluster.
    const cluster = app.emulator.state().managedClusters[0] as {
      properties: { agentPoolProfiles: Record<string, unknown>[] };
    };
    const system = cluster.properties.agentPoolProfiles[0] ?? {};
    cluster.properties.agentPoolProfiles.push({
      ...system,
      name: "win",
      osType: "Windows",
      osSKU: "Windows2022",
      mode: "User",
    });
    app.emulator.upsert(cluster as never);
    await app.sendEvents([clusterEvent("5b4f3c2a-1111-4222-8333-9444555599aa")]);
    const second = await app.waitForPhase("awaiting-approval", 20_000).then(async () => {
      for (;;) {
        const s = await app?.status();
        if (s && s.pass >= 2 && s.phase === "awaiting-approval") return s;
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    expect(app.events("AksEgressGuard.ApprovalSuperseded")).toHaveLength(1);
    expect(second.plan?.hash).not.toBe(first.plan?.hash);
    const stale = await fetch(oldLink ?? "", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ decision: "approve" }),
    });
    expect(stale.status).toBe(410);
    expect(app.successfulPuts()).toBe(0);
    const newLink = app.approvalLinks().at(-1);
    expect(newLink).not.toBe(oldLink);
    const ok = await fetch(newLink ?? "", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ decision: "approve" }),
    });
    expect(ok.status).toBe(200);
    expect((await app.waitForPass(2)).last).toMatchObject({ outcome: "applied" });
    expect(app.successfulPuts()).toBe(1);
  }, 40_000);

  it("refuses forged, expired, misdirected and wrong-plan tokens, and writes nothing", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "approve" } });
    await app.sendEvents([clusterEvent()]);
    const waiting = await app.waitForPhase("awaiting-approval");
    const [link] = app.approvalLinks();
    const url = new URL(link ?? "");
    const approvalId = waiting.pendingApproval?.approvalId ?? "";
    const instanceId = instanceIdFor(POLICY_ID);
    const base = `${app.host.url}/api/approvals/${encodeURIComponent(approvalId)}?token=`;
    const post = (target: string) =>
      fetch(target, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ decision: "approve" }),
      });
    const token = url.searchParams.get("token") ?? "";
    const [payload] = token.split(".");

    const forged = await post(`${base}${payload}.${Buffer.from("not the signature").toString("base64url")}`);
    expect(forged.status).toBe(403);
    const expired = await post(
      `${base}${createApprovalToken({ instanceId, approvalId, changeHash: waiting.pendingApproval?.changeHash ?? "", expiresAt: "2020-01-01T00:00:00.000Z" }, SIGNING_KEY)}`,
    );
    expect(expired.status).toBe(403);
    expect(await expired.json()).toEqual({ error: "approval token has expired." });
    const misdirected = await post(
      `${app.host.url}/api/approvals/other-approval?token=${encodeURIComponent(token)}`,
    );
    expect(misdirected.status).toBe(403);
    const wrongPlan = await post(
      `${base}${createApprovalToken({ instanceId, approvalId, changeHash: "f".repeat(64), expiresAt: "2099-01-01T00:00:00.000Z" }, SIGNING_KEY)}`,
    );
    expect(wrongPlan.status).toBe(410);
    const badBody = await fetch(link ?? "", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ decision: "yes please" }),
    });
    expect(badBody.status).toBe(400);

    await new Promise((r) => setTimeout(r, 500));
    expect((await app.status()).phase).toBe("awaiting-approval");
    expect(app.successfulPuts()).toBe(0);
  });
});

describe("reconciler: restarts", () => {
  it("a restart while an approval is pending: the link still works and nothing is applied twice", async () => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { startArmEmulator } = await import("../../local/arm-emulator");
    const { SMALL_ESTATE } = await import("../local/arm-emulator-helpers");
    const emulator = await startArmEmulator({ seedFile: SMALL_ESTATE, lroDelayMs: 20 });
    const stateDir = mkdtempSync(path.join(tmpdir(), "aks-egress-restart-"));
    try {
      const first = await startApp({ emulator, stateDir, settings: { AKS_EGRESS_MODE: "approve" } });
      await first.sendEvents([clusterEvent()]);
      await first.waitForPhase("awaiting-approval");
      const link = new URL(first.approvalLinks()[0] ?? "");
      await first.close();

      app = await startApp({ emulator, stateDir, settings: { AKS_EGRESS_MODE: "approve" } });
      expect((await app.status()).phase).toBe("awaiting-approval");
      const again = `${app.host.url}${link.pathname}${link.search}`;
      expect((await fetch(again)).status).toBe(200);
      const decided = await fetch(again, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ decision: "approve" }),
      });
      expect(decided.status).toBe(200);
      expect((await app.waitForPass(1)).last).toMatchObject({ outcome: "applied" });
      await new Promise((r) => setTimeout(r, 1000));
      expect(emulator.requests().filter((r) => r.method === "PUT" && r.status < 300)).toHaveLength(1);
      expect(
        app.logs.filter((l) => l.kind === "invocation" && l.functionName === "requestApproval"),
      ).toHaveLength(0);
    } finally {
      await app?.close();
      app = undefined;
      await emulator.close();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  }, 40_000);
});

describe("HTTP endpoints", () => {
  it("POST /api/reconcile runs a pass now; status by cluster finds it; both need the function key", async () => {
    app = await startApp();
    const url = `${app.host.url}/api/reconcile`;
    expect((await fetch(url, { method: "POST", body: "{}" })).status).toBe(401);
    const unknown = await fetch(url, {
      method: "POST",
      headers: { "x-functions-key": "test-function-key" },
      body: JSON.stringify({
        policyId: "/subscriptions/x/resourceGroups/y/providers/Microsoft.Network/firewallPolicies/z",
      }),
    });
    expect(unknown.status).toBe(404);
    const run = await fetch(url, {
      method: "POST",
      headers: { "x-functions-key": "test-function-key" },
      body: JSON.stringify({ policyId: POLICY_ID.toUpperCase() }),
    });
    expect(run.status).toBe(202);
    expect(await run.json()).toEqual({ reconciling: [{ policyId: POLICY_ID, handedOver: "started" }] });
    await app.waitForPass(1);
    expect(app.successfulPuts()).toBe(1);

    const clusterId = String(
      (fixture("cluster-write.eventgrid.json").data as { resourceUri: string }).resourceUri,
    );
    const byCluster = await fetch(
      `${app.host.url}/api/status?cluster=${encodeURIComponent(clusterId.toUpperCase())}`,
      { headers: { "x-functions-key": "test-function-key" } },
    );
    const body = (await byCluster.json()) as { policies: { policyId: string; last: { outcome: string } }[] };
    expect(body.policies.map((p) => [p.policyId, p.last.outcome])).toEqual([[POLICY_ID, "applied"]]);
    const neither = await fetch(`${app.host.url}/api/status`, {
      headers: { "x-functions-key": "test-function-key" },
    });
    expect(neither.status).toBe(400);
  });
});
