// Issue 10's cases, end to end: real Event Grid payloads into the app's real functions, the real
// durable-functions replay, the real SDK against the emulator. What reaches the firewall is exactly
// the change a rule or a person allowed, and a write counts only when Azure says it succeeded.
import fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { instanceIdFor } from "../../orchestrations/instance-id";
import type { ReconcilerStatus } from "../../orchestrations/reconciler";
import { GROUP_PATH, POLICY_ID, raw, SMALL_ESTATE } from "../local/arm-emulator-helpers";
import { type AppUnderTest, startApp } from "./app-harness";

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "events", name), "utf8"));
let eventCounter = 0;
const uniqueId = () => `7a000000-0000-4000-8000-${String(++eventCounter).padStart(12, "0")}`;
const clusterEvent = () => ({ ...fixture("cluster-write.eventgrid.json"), id: uniqueId() });
/** ARM's event for a write to the managed group (by a person: not the app's identity). */
const managedGroupEvent = () => {
  const event = fixture("rcg-write.eventgrid.json");
  const subject = `${GROUP_PATH}/aks-egress-guard`;
  const data = event.data as Record<string, unknown>;
  return {
    ...event,
    id: uniqueId(),
    subject,
    data: {
      ...data,
      resourceUri: subject,
      authorization: { ...(data.authorization as object), scope: subject },
    },
  };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let app: AppUnderTest | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

interface GroupResource {
  properties: { provisioningState: string; ruleCollections: { name: string; rules: unknown[] }[] };
}
function managedGroup(a: AppUnderTest): GroupResource | undefined {
  return (a.emulator.state().ruleCollectionGroups as unknown as (GroupResource & { name: string })[]).find(
    (g) => g.name === "aks-egress-guard",
  );
}
const ruleCount = (g: GroupResource | undefined) =>
  (g?.properties.ruleCollections ?? []).reduce((n, c) => n + c.rules.length, 0);
/** PUTs the app made (its SDK clients send this user agent; the test's hand edits do not). */
const appPuts = (a: AppUnderTest) =>
  a.emulator
    .requests()
    .filter(
      (r) =>
        r.method === "PUT" && r.status < 300 && (r.headers["user-agent"] ?? "").includes("aks-egress-guard"),
    ).length;

/** A person puts `count` allow rules into the managed group by hand, keeping what is there. */
async function addRulesByHand(a: AppUnderTest, count: number, tag = "hand"): Promise<void> {
  const current = managedGroup(a);
  const collections = structuredClone(current?.properties.ruleCollections ?? []);
  collections.push({
    ruleCollectionType: "FirewallPolicyFilterRuleCollection",
    name: `${tag}-made`,
    priority: 60000,
    action: { type: "Allow" },
    rules: Array.from({ length: count }, (_, i) => ({
      ruleType: "NetworkRule",
      name: `${tag}-${i}`,
      ipProtocols: ["TCP"],
      sourceAddresses: ["10.99.0.0/24"],
      destinationAddresses: [`192.0.2.${i % 250}`],
      destinationPorts: [String(1000 + i)],
    })),
  } as never);
  const response = await raw(a.emulator, "PUT", `${GROUP_PATH}/aks-egress-guard?api-version=2025-05-01`, {
    body: { properties: { priority: 300, ruleCollections: collections } },
  });
  expect(response.status).toBeLessThan(300);
  for (let i = 0; i < 100 && managedGroup(a)?.properties.provisioningState !== "Succeeded"; i++)
    await sleep(20);
}

async function waitFor(
  a: AppUnderTest,
  done: (s: ReconcilerStatus & { runtimeStatus: string }) => boolean,
  what: string,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await a.status();
    if (done(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await sleep(100);
  }
}
const post = (link: string, decision: "approve" | "reject", headers: Record<string, string> = {}) =>
  fetch(link, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ decision }),
  });

describe("write safety: a decision is bound to one exact change", () => {
  it("case 1 (approve): rules put into the managed group while an approval waits are never removed by that approval", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "approve" } });
    await app.sendEvents([clusterEvent()]);
    await app.waitForPhase("awaiting-approval");
    const [link] = app.approvalLinks();
    await addRulesByHand(app, 60);
    // The approver presses Approve before the app has even heard of the hand edit.
    const decided = await post(link ?? "", "approve");
    expect(decided.status).toBe(200);
    // The next pass plans the new change (60 removals) and asks again, with a new link.
    const again = await waitFor(app, (s) => s.pass >= 2 && s.phase === "awaiting-approval", "a new approval");
    expect(again.last).toMatchObject({ pass: 1, outcome: "superseded", decision: { decision: "approve" } });
    expect(appPuts(app)).toBe(0);
    expect(ruleCount(managedGroup(app))).toBe(60);
    expect(again.plan?.removed).toBe(60);
    expect(app.approvalLinks()).toHaveLength(2);
    expect((await post(link ?? "", "approve")).status).toBe(409);
    expect(appPuts(app)).toBe(0);
  }, 40_000);

  it("case 1 (approve): a hand edit reported by an event supersedes the approval; its link answers 410", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "approve" } });
    await app.sendEvents([clusterEvent()]);
    const first = await app.waitForPhase("awaiting-approval");
    const [link] = app.approvalLinks();
    await addRulesByHand(app, 60);
    await app.sendEvents([managedGroupEvent()]);
    const second = await waitFor(
      app,
      (s) => s.pass >= 2 && s.phase === "awaiting-approval",
      "a new approval",
    );
    expect(second.pendingApproval?.changeHash).not.toBe(first.pendingApproval?.changeHash);
    expect(second.plan?.removed).toBe(60);
    expect(app.events("AksEgressGuard.ApprovalSuperseded")).toHaveLength(1);
    expect((await post(link ?? "", "approve")).status).toBe(410);
    await sleep(500);
    expect(appPuts(app)).toBe(0);
    expect(ruleCount(managedGroup(app))).toBe(60);
  }, 40_000);

  it("case 1 (auto): after a write ends Failed, rules added by hand are not removed without approval", async () => {
    app = await startApp({ settings: { AKS_EGRESS_DEBOUNCE_SECONDS: "2" } });
    app.emulator.injectFault({
      kind: "lroFailed",
      method: "PUT",
      pathContains: "aks-egress-guard",
      times: 1,
    });
    await app.sendEvents([clusterEvent()]);
    const failed = await app.waitForPass(1);
    expect(failed.last?.outcome).toBe("failed");
    expect(failed.last?.summary).toMatch(/Azure failed the write/);
    expect(managedGroup(app)?.properties.provisioningState).toBe("Failed");
    const written = ruleCount(managedGroup(app));
    // Before the retry: someone adds 60 rules (the group now holds ours, Failed, plus theirs).
    await addRulesByHand(app, 60);
    const waiting = await waitFor(
      app,
      (s) => s.phase === "awaiting-approval",
      "an approval for the removal",
      30_000,
    );
    expect(waiting.plan?.removed).toBe(60);
    expect(waiting.pendingApproval?.reasons.join(" ")).toMatch(/removes/);
    expect(ruleCount(managedGroup(app))).toBe(written + 60);
    expect(appPuts(app)).toBe(1); // the failed one only
  }, 40_000);
});

describe("write safety: removal budget, single use, proofs, concurrency", () => {
  it("case 2: unapproved removals add up over the window; salami slices end in an approval", async () => {
    app = await startApp({ settings: { AKS_EGRESS_REMOVALS_NEED_APPROVAL: "false" } });
    await app.sendEvents([clusterEvent()]);
    expect((await app.waitForPass(1)).last?.outcome).toBe("applied");
    const ours = ruleCount(managedGroup(app));
    const slice = Math.floor(ours / 3); // slice / (ours + slice) <= 25%: allowed alone
    await addRulesByHand(app, slice, "first");
    await app.sendEvents([managedGroupEvent()]);
    const second = await app.waitForPass(2);
    expect(second.last?.outcome).toBe("applied");
    expect(ruleCount(managedGroup(app))).toBe(ours);
    await addRulesByHand(app, slice, "second");
    await app.sendEvents([managedGroupEvent()]);
    const third = await waitFor(app, (s) => s.phase === "awaiting-approval", "an approval at the budget");
    expect(third.pendingApproval?.reasons.join(" ")).toMatch(
      /removed without approval earlier in the window/,
    );
    expect(ruleCount(managedGroup(app))).toBe(ours + slice);
  }, 40_000);

  it("case 2: a slice whose write ends Failed still counts; so does the budget after a restart", async () => {
    app = await startApp({
      settings: { AKS_EGRESS_REMOVALS_NEED_APPROVAL: "false", AKS_EGRESS_DEBOUNCE_SECONDS: "1" },
    });
    await app.sendEvents([clusterEvent()]);
    expect((await app.waitForPass(1)).last?.outcome).toBe("applied");
    const ours = ruleCount(managedGroup(app));
    const slice = Math.floor(ours / 3);
    await addRulesByHand(app, slice, "first");
    // Azure keeps the new content but marks the write Failed: the removal happened all the same.
    app.emulator.injectFault({
      kind: "lroFailed",
      method: "PUT",
      pathContains: "aks-egress-guard",
      times: 1,
    });
    await app.sendEvents([managedGroupEvent()]);
    await waitFor(
      app,
      (s) => (s.last?.pass ?? 0) >= 3 && s.last?.outcome === "applied",
      "the retry after Failed",
      30_000,
    );
    expect(ruleCount(managedGroup(app))).toBe(ours);
    // A terminated instance's budget carries over to the next one.
    const instanceId = instanceIdFor(POLICY_ID);
    expect(
      (await app.durable(`instances/${instanceId}/terminate?reason=test`, { method: "POST" })).status,
    ).toBe(202);
    await waitFor(app, (s) => s.runtimeStatus === "Terminated", "termination");
    await addRulesByHand(app, slice, "second");
    await app.sendEvents([managedGroupEvent()]);
    const asked = await waitFor(
      app,
      (s) => s.phase === "awaiting-approval",
      "an approval at the budget",
      30_000,
    );
    expect(asked.pendingApproval?.reasons.join(" ")).toMatch(
      /removed without approval earlier in the window/,
    );
    expect(ruleCount(managedGroup(app))).toBe(ours + slice);
  }, 60_000);

  it("a decision raised while the reconciler re-plans is taken up at once, not parked", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "approve" } });
    await app.sendEvents([clusterEvent()]);
    const waiting = await app.waitForPhase("awaiting-approval");
    // The re-plan's read is slow (a throttled list, as at fleet scale); an unrelated event starts it.
    app.emulator.injectFault({
      kind: "throttle",
      method: "GET",
      pathContains: "managedClusters",
      retryAfterSeconds: 3,
      times: 1,
    });
    await app.sendEvents([clusterEvent()]);
    await app.waitForPhase("planning", 20_000);
    const [link] = app.approvalLinks();
    // The approval endpoint treats a re-planning approval as still pending, and raises the decision.
    const answer = await post(link ?? "", "approve");
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ decided: "approve", tookEffect: true });
    const done = await app.waitForPass(1, 30_000);
    expect(done.last).toMatchObject({
      outcome: "applied",
      decision: { approvalId: waiting.pendingApproval?.approvalId },
    });
    expect(appPuts(app)).toBe(1);
  }, 60_000);

  it("case 3: a rejected link never applies, also after the instance is terminated and started again", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "approve" } });
    await app.sendEvents([clusterEvent()]);
    await app.waitForPhase("awaiting-approval");
    const [link] = app.approvalLinks();
    expect((await post(link ?? "", "reject")).status).toBe(200);
    await app.waitForPass(1);
    const instanceId = instanceIdFor(POLICY_ID);
    expect(
      (await app.durable(`instances/${instanceId}/terminate?reason=test`, { method: "POST" })).status,
    ).toBe(202);
    await waitFor(app, (s) => s.runtimeStatus === "Terminated", "termination");
    const run = await fetch(`${app.host.url}/api/reconcile`, {
      method: "POST",
      headers: { "x-functions-key": "test-function-key" },
      body: JSON.stringify({ policyId: POLICY_ID }),
    });
    expect(run.status).toBe(202);
    const again = await waitFor(
      app,
      (s) => s.runtimeStatus === "Running" && s.phase === "awaiting-approval",
      "a new approval",
    );
    const newLink = app.approvalLinks().at(-1);
    expect(newLink).not.toBe(link);
    expect(new URL(newLink ?? "").pathname).not.toBe(new URL(link ?? "").pathname);
    expect(again.pendingApproval?.approvalId).not.toBe(new URL(link ?? "").pathname.split("/").at(-1));
    expect([409, 410]).toContain((await post(link ?? "", "approve")).status);
    await sleep(500);
    expect((await app.status()).phase).toBe("awaiting-approval");
    expect(appPuts(app)).toBe(0);
  }, 40_000);

  it("case 3b: the link of an approval whose reconciler was terminated is gone, not pending", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "approve" } });
    await app.sendEvents([clusterEvent()]);
    await app.waitForPhase("awaiting-approval");
    const [link] = app.approvalLinks();
    const instanceId = instanceIdFor(POLICY_ID);
    expect(
      (await app.durable(`instances/${instanceId}/terminate?reason=test`, { method: "POST" })).status,
    ).toBe(202);
    await waitFor(app, (s) => s.runtimeStatus === "Terminated", "termination");
    // Its custom status still says awaiting-approval: nothing will ever read a decision now.
    expect((await fetch(link ?? "")).status).toBe(410);
    expect((await post(link ?? "", "approve")).status).toBe(410);
    expect(appPuts(app)).toBe(0);
  }, 40_000);

  it("case 4: an approval event raised with values from the status, without the proof, decides nothing; no link anywhere", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "approve" } });
    await app.sendEvents([clusterEvent()]);
    const waiting = await app.waitForPhase("awaiting-approval");
    const forged = {
      approvalId: waiting.pendingApproval?.approvalId,
      changeHash: waiting.pendingApproval?.changeHash,
      decision: "approve",
      decisionId: "forged",
      approver: "mallory",
      proof: "AAAA",
    };
    const raised = await app.durable(`instances/${instanceIdFor(POLICY_ID)}/raiseEvent/approval`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(forged),
    });
    expect(raised.status).toBe(202);
    await waitFor(app, () => app?.events("AksEgressGuard.ApprovalRefused").length === 1, "the refusal");
    expect(app.events("AksEgressGuard.ApprovalRefused")[0]).toMatchObject({
      reason: expect.stringMatching(/proof/),
    });
    expect((await app.status()).phase).toBe("awaiting-approval");
    expect(appPuts(app)).toBe(0);
    // The token travels only in the link, and the link only to the notification topic.
    const [link] = app.approvalLinks();
    const token = new URL(link ?? "").searchParams.get("token") ?? "";
    expect(token.length).toBeGreaterThan(20);
    const statusText = JSON.stringify(await app.status());
    const history = await (
      await app.durable(`instances/${instanceIdFor(POLICY_ID)}?showHistory=true&showHistoryOutput=true`)
    ).text();
    const logText = JSON.stringify(app.logs);
    for (const text of [statusText, history, logText]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain("token=");
    }
  });

  it("case 5: of eight simultaneous decisions exactly one takes effect, and every answer says which", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "approve" } });
    await app.sendEvents([clusterEvent()]);
    await app.waitForPhase("awaiting-approval");
    const [link] = app.approvalLinks();
    const answers = await Promise.all(
      (["approve", "reject", "approve", "reject", "approve", "reject", "approve", "reject"] as const).map(
        async (d) => {
          const r = await post(link ?? "", d);
          return { asked: d, status: r.status, body: (await r.json()) as Record<string, unknown> };
        },
      ),
    );
    const winners = answers.filter((a) => a.status === 200);
    expect(winners).toHaveLength(1);
    const winner = winners[0];
    expect(winner?.body.decided).toBe(winner?.asked);
    const losers = answers.filter((a) => a.status !== 200);
    expect(losers.map((a) => a.status)).toEqual(Array(7).fill(409));
    for (const l of losers) expect(l.body.decided).toMatchObject({ decision: winner?.asked });
    const done = await app.waitForPass(1);
    expect(done.last?.outcome).toBe(winner?.asked === "approve" ? "applied" : "rejected");
    expect(appPuts(app)).toBe(winner?.asked === "approve" ? 1 : 0);
    expect(app.events("AksEgressGuard.ApprovalDecided")).toHaveLength(1);
  }, 40_000);
});

describe("write safety: a write counts only when Azure says so", () => {
  it("case 6: an LRO that ends Failed fails the pass with Azure's error; the next pass writes again and converges", async () => {
    app = await startApp();
    app.emulator.injectFault({
      kind: "lroFailed",
      method: "PUT",
      pathContains: "aks-egress-guard",
      times: 1,
      code: "FirewallPolicyUpdateFailed",
      message: "Put on Firewall Policy failed with provisioning state Failed",
    } as never);
    await app.sendEvents([clusterEvent()]);
    const first = await app.waitForPass(1);
    expect(first.last?.outcome).toBe("failed");
    expect(first.last?.summary).toMatch(/FirewallPolicyUpdateFailed/);
    expect(app.events("AksEgressGuard.PlanApplied")[0]).toMatchObject({ converged: false });
    // No event needed: a failed pass tries again by itself, after a short wait.
    const second = await app.waitForPass(2, 30_000);
    expect(second.last).toMatchObject({ outcome: "applied" });
    expect(managedGroup(app)?.properties.provisioningState).toBe("Succeeded");
    expect(appPuts(app)).toBe(2);
  }, 40_000);

  it("case 6: a write still Updating is waited for; the pass counts it only once Azure says Succeeded", async () => {
    app = await startApp();
    app.emulator.injectFault({
      kind: "stuckUpdating",
      method: "PUT",
      pathContains: "aks-egress-guard",
      holdMs: 2500,
    } as never);
    await app.sendEvents([clusterEvent()]);
    await app.waitForPhase("applying");
    const started = Date.now();
    await sleep(1000);
    expect(managedGroup(app)?.properties.provisioningState).toBe("Updating");
    expect((await app.status()).phase).toBe("applying");
    const done = await app.waitForPass(1, 30_000);
    expect(Date.now() - started).toBeGreaterThan(1000);
    expect(done.last).toMatchObject({ outcome: "applied" });
    expect(managedGroup(app)?.properties.provisioningState).toBe("Succeeded");
  }, 40_000);
});

describe("write safety: activities run at least once", () => {
  it("an apply delivered twice writes once and still reports the change applied", async () => {
    app = await startApp({ durable: { activityDelivery: "rerun" } });
    await app.sendEvents([clusterEvent()]);
    const done = await app.waitForPass(1, 30_000);
    expect(done.last).toMatchObject({ outcome: "applied" });
    expect(appPuts(app)).toBe(1);
    expect(managedGroup(app)?.properties.provisioningState).toBe("Succeeded");
    // The orchestrator sees the second run's answer: the decided group already in place.
    expect(app.events("AksEgressGuard.PlanApplied")[0]).toMatchObject({
      outcome: "applied",
      detail: "already in place",
    });
  }, 40_000);
});

describe("write safety: bounded history", () => {
  it("case 8: 500 events while an approval waits cost one re-plan per debounce window, not one each", async () => {
    app = await startApp({ settings: { AKS_EGRESS_MODE: "approve", AKS_EGRESS_DEBOUNCE_SECONDS: "2" } });
    await app.sendEvents([clusterEvent()]);
    await app.waitForPhase("awaiting-approval");
    const gathersBefore = app.logs.filter(
      (l) => l.kind === "invocation" && l.functionName === "gatherAndPlan",
    ).length;
    const started = Date.now();
    for (let i = 0; i < 500; i += 50)
      expect(await app.sendEvents(Array.from({ length: 50 }, () => clusterEvent()))).toBe(202);
    await sleep(3000);
    const elapsedWindows = Math.ceil((Date.now() - started) / 2000);
    const gathers =
      app.logs.filter((l) => l.kind === "invocation" && l.functionName === "gatherAndPlan").length -
      gathersBefore;
    expect(gathers).toBeGreaterThanOrEqual(1);
    expect(gathers).toBeLessThanOrEqual(elapsedWindows + 1);
    const s = await app.status();
    expect(s.phase).toBe("awaiting-approval");
    // Custom status stays small whatever the burst.
    expect(JSON.stringify(s).length).toBeLessThan(4_000);
    expect(s.reasonCount).toBeGreaterThanOrEqual(1);
    // Activity results in history are summaries: the plan, cluster profiles and bodies are not there.
    const history = (await (
      await app.durable(`instances/${instanceIdFor(POLICY_ID)}?showHistory=true&showHistoryOutput=true`)
    ).json()) as { historyEvents?: { EventType: string; Result?: unknown }[] };
    const results = (history.historyEvents ?? []).filter((e) => e.EventType === "TaskCompleted");
    expect(results.length).toBeGreaterThan(0);
    const resultBytes = JSON.stringify(results).length;
    expect(resultBytes).toBeLessThan(64 * 1024);
    expect(JSON.stringify(results)).not.toContain("ruleCollections");
    expect(JSON.stringify(results)).not.toContain("nodeSubnets");
    // Approving still works, with one write.
    const link = app.approvalLinks().at(-1);
    expect((await post(link ?? "", "approve")).status).toBe(200);
    expect((await app.waitForPass(1)).last?.outcome).toBe("applied");
    expect(appPuts(app)).toBe(1);
  }, 60_000);
});

/** The small estate with its one cluster cloned `count` times, each with subnets of its own. */
function fleetEstate(count: number): string {
  const seed = JSON.parse(fs.readFileSync(SMALL_ESTATE, "utf8")) as {
    managedClusters: Record<string, unknown>[];
    subnets: { id: string; name: string; properties: { addressPrefix: string } }[];
  };
  const [template] = seed.managedClusters;
  const subnets: typeof seed.subnets = [];
  const clusters = Array.from({ length: count }, (_, i) => {
    const cluster = structuredClone(template) as {
      id: string;
      name: string;
      properties: { agentPoolProfiles: { vnetSubnetID: string }[] };
    };
    cluster.name = `aks-fleet-${String(i).padStart(3, "0")}`;
    cluster.id = cluster.id.replace(/managedClusters\/.*/, `managedClusters/${cluster.name}`);
    for (const [j, pool] of cluster.properties.agentPoolProfiles.entries()) {
      const subnet = structuredClone(seed.subnets[0]) as (typeof seed.subnets)[number];
      subnet.name = `snet-${cluster.name}-${j}`;
      subnet.id = subnet.id.replace(/subnets\/.*/, `subnets/${subnet.name}`);
      subnet.properties.addressPrefix = `10.${100 + Math.floor(i / 60)}.${(i % 60) * 4 + j}.0/24`;
      pool.vnetSubnetID = subnet.id;
      subnets.push(subnet);
    }
    return cluster;
  });
  const file = path.join(fs.mkdtempSync(path.join(tmpdir(), "aks-egress-fleet-")), "estate.json");
  fs.writeFileSync(file, JSON.stringify({ ...seed, managedClusters: clusters, subnets }));
  return file;
}

describe("write safety: history does not grow with the fleet", () => {
  it("case 8: a pass over 120 clusters puts summaries in history, not plans: well under 64 KB", async () => {
    app = await startApp({ seedFile: fleetEstate(120), settings: { AKS_EGRESS_MODE: "approve" } });
    await app.sendEvents([clusterEvent()]);
    const waiting = await app.waitForPhase("awaiting-approval", 60_000);
    // Shared rules: a handful of rules, each listing the subnets of every cluster that needs it.
    expect(waiting.plan?.added).toBeGreaterThanOrEqual(2);
    const history = (await (
      await app.durable(`instances/${instanceIdFor(POLICY_ID)}?showHistory=true&showHistoryOutput=true`)
    ).json()) as { historyEvents?: unknown[] };
    const bytes = JSON.stringify(history.historyEvents ?? []).length;
    expect(bytes).toBeLessThan(64 * 1024);
    // Custom status holds the plan's summary, not its text (which lists all 240 node subnets): the
    // approval page reads the whole plan afresh.
    expect(JSON.stringify(waiting).length).toBeLessThan(4_000);
    const link = app.approvalLinks().at(-1) ?? "";
    const shown = (await (await fetch(link)).json()) as { plan: string; summary: string };
    expect(shown.plan.length).toBeGreaterThan(8_000);
    expect(shown.plan).toContain("Per cluster: 120 of 120 cluster(s) gain or lose access.");
    expect(shown.plan).toContain("10.100.0.0/24");
    expect(shown.plan).toContain("10.101.237.0/24");
    expect(shown.plan).toContain(shown.summary);
    const status = await app.status();
    expect((status as { last?: unknown }).last).toBeUndefined();
    expect(waiting.reasonCount).toBe(1);
  }, 90_000);
});
