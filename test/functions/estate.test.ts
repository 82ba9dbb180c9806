// The estate page end to end: the app's real functions in the local host, its reconciler through the
// real durable-functions replay, clusters read with the real SDK from the ARM emulator. One app for
// the file: a pass rejected with a comment, then a pass waiting for approval, then the page.
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EstateView } from "../../functions/pages/estate-page";
import type { ArmResource } from "../../local/arm-emulator";
import { startArmEmulator } from "../../local/arm-emulator";
import { POLICY_ID, SMALL_ESTATE, SUBSCRIPTION } from "../local/arm-emulator-helpers";
import { type AppUnderTest, startApp } from "../orchestrations/app-harness";

const XSS_CLUSTER = "<script>alert(1)</script>";
const XSS_COMMENT = '"><img src=x onerror=alert(1)>';
const APPROVER = "Ada <b>Lovelace</b>";
/** In scope, absent from the estate: never started, serves nothing. */
const OTHER_POLICY = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-network-weu/providers/Microsoft.Network/firewallPolicies/fw-policy-2`;

const escaped = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const principal = (name: string) =>
  Buffer.from(
    JSON.stringify({ auth_typ: "aad", name_typ: "name", claims: [{ typ: "name", val: name }] }),
  ).toString("base64");

/** The small estate, and a clone of its cluster named like markup, in subnets of its own. */
function seed() {
  const estate = JSON.parse(fs.readFileSync(SMALL_ESTATE, "utf8")) as {
    managedClusters: (ArmResource & {
      name: string;
      tags: Record<string, string>;
      properties: Record<string, unknown>;
    })[];
    subnets: (ArmResource & { name: string; properties: { addressPrefix: string } })[];
  };
  const [cluster] = estate.managedClusters;
  if (cluster === undefined) throw new Error("small estate changed");
  const clone = structuredClone(cluster);
  clone.name = XSS_CLUSTER;
  clone.id = cluster.id.replace(/managedClusters\/.*$/, "managedClusters/aks-xss");
  clone.tags = { ...clone.tags, "aks-egress-guard/mode": "approve" };
  const pools = clone.properties.agentPoolProfiles as { vnetSubnetID?: string }[];
  const subnets = pools.map((pool, i) => {
    const template = estate.subnets.find((s) => s.id.toLowerCase() === pool.vnetSubnetID?.toLowerCase());
    if (template === undefined) throw new Error("small estate changed");
    const subnet = structuredClone(template);
    subnet.name = `snet-xss-${i}`;
    subnet.id = template.id.replace(/subnets\/.*$/, `subnets/${subnet.name}`);
    subnet.properties.addressPrefix = `10.200.${i}.0/24`;
    pool.vnetSubnetID = subnet.id;
    return subnet;
  });
  return { ...estate, managedClusters: [cluster, clone], subnets: [...estate.subnets, ...subnets] };
}

let app: AppUnderTest;
const tokens: string[] = [];
const key = { "x-functions-key": "test-function-key" };
const estate = (query = "", headers: Record<string, string> = {}) =>
  fetch(`${app.host.url}/api/estate${query}`, { headers: { ...key, ...headers } });
const reconcile = () =>
  fetch(`${app.host.url}/api/reconcile`, {
    method: "POST",
    headers: { ...key, "Content-Type": "application/json" },
    body: JSON.stringify({ policyId: POLICY_ID }),
  });

beforeAll(async () => {
  const emulator = await startArmEmulator({ seed: seed(), lroDelayMs: 20 });
  app = await startApp({
    emulator,
    settings: {
      AKS_EGRESS_MODE: "approve",
      AKS_EGRESS_APPROVER_AUTH: "appservice",
      AKS_EGRESS_FIREWALL_POLICIES: `${POLICY_ID},${OTHER_POLICY}`,
    },
  });
  // Pass 1 asks; a person rejects it with a comment. Pass 2 asks again and waits.
  expect((await reconcile()).status).toBe(202);
  await app.waitForPhase("awaiting-approval");
  const [first] = app.approvalLinks();
  if (first === undefined) throw new Error("no approval link was published");
  const rejected = await fetch(first, {
    method: "POST",
    headers: { "Content-Type": "application/json", "x-ms-client-principal": principal(APPROVER) },
    body: JSON.stringify({ decision: "reject", comment: XSS_COMMENT }),
  });
  expect(rejected.status).toBe(200);
  await app.waitForPass(1);
  await reconcile();
  await app.waitForPhase("awaiting-approval");
  for (const link of app.approvalLinks()) tokens.push(new URL(link).searchParams.get("token") ?? "");
  expect(tokens).toHaveLength(2);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await app?.emulator.close();
});

describe("GET /api/estate", () => {
  it("JSON: every policy, its clusters, the last and recent passes with the decision, the pending approval", async () => {
    const before = app.emulator.requests().length;
    const response = await estate();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    const text = await response.text();
    const view = JSON.parse(text) as EstateView;

    expect(view.policies.map((p) => p.policyId)).toEqual([POLICY_ID, OTHER_POLICY]);
    const [policy, other] = view.policies;
    expect(policy).toMatchObject({
      name: "fw-policy",
      runtimeStatus: "Running",
      phase: "awaiting-approval",
      pass: 2,
      drift: { state: "drift" },
      last: { pass: 1, outcome: "rejected" },
    });
    expect(policy?.plan?.added).toBeGreaterThan(0);
    expect(policy?.recent).toEqual([
      expect.objectContaining({
        pass: 1,
        outcome: "rejected",
        decision: expect.objectContaining({ decision: "reject", approver: APPROVER, comment: XSS_COMMENT }),
      }),
    ]);
    const status = await app.status();
    expect(policy?.pendingApproval).toEqual({
      approvalId: status.pendingApproval?.approvalId,
      expiresAt: status.pendingApproval?.expiresAt,
      reasons: status.pendingApproval?.reasons,
      summary: status.pendingApproval?.summary,
      whoCanDecide: expect.stringContaining("signs in with Microsoft Entra ID (App Service Authentication)"),
    });
    if (!policy?.clusters.read) throw new Error(`clusters not read: ${JSON.stringify(policy?.clusters)}`);
    expect(policy.clusters.count).toBe(2);
    expect(policy.clusters.clusters.map((c) => c.name).sort()).toEqual([XSS_CLUSTER, "aks-weu-prod"].sort());
    expect(policy.clusters.clusters.find((c) => c.name === XSS_CLUSTER)).toMatchObject({
      resourceGroup: "rg-aks-weu",
      region: "westeurope",
      mode: "approve",
      nodeSubnets: 2,
      features: expect.arrayContaining(["gpu"]),
      mappedBy: "tag",
    });
    expect(other).toMatchObject({
      runtimeStatus: "NotStarted",
      recent: [],
      clusters: { read: true, count: 0, clusters: [] },
    });

    // Never a link or a token.
    for (const token of tokens) expect(text).not.toContain(token);
    expect(text).not.toMatch(/token=|\/api\/approvals/);

    // Read in bulk, as a pass reads them, however many clusters: a GET of each managed group, one
    // cluster list, one network list and one route-table list per subscription (the node subnets have
    // route tables there; hubs and firewalls only when a route could lead to one, and none does here).
    const reads = app.emulator
      .requests()
      .slice(before)
      .map((r) => `${r.method} ${r.path.replace(/^\/subscriptions\/[^/]+/, "")}`)
      .sort();
    expect(reads).toEqual(
      [
        "GET /providers/Microsoft.ContainerService/managedClusters",
        "GET /providers/Microsoft.Network/routeTables",
        "GET /providers/Microsoft.Network/virtualNetworks",
        "GET /resourceGroups/rg-network-weu/providers/Microsoft.Network/firewallPolicies/fw-policy/ruleCollectionGroups/aks-egress-guard",
        "GET /resourceGroups/rg-network-weu/providers/Microsoft.Network/firewallPolicies/fw-policy-2/ruleCollectionGroups/aks-egress-guard",
      ].sort(),
    );
  });

  it("HTML: escapes what Azure and people wrote, shows no link or token, runs no script", async () => {
    const response = await estate("", { Accept: "text/html,application/xhtml+xml" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    const page = await response.text();
    expect(page).not.toContain(XSS_CLUSTER);
    expect(page).toContain(escaped(XSS_CLUSTER));
    expect(page).not.toContain(XSS_COMMENT);
    expect(page).toContain(escaped(XSS_COMMENT));
    expect(page).not.toContain(APPROVER);
    expect(page).toContain(escaped(APPROVER));
    expect(page).not.toMatch(/<script|<img|onerror=alert\(1\)>/i);
    for (const token of tokens) expect(page).not.toContain(token);
    expect(page).not.toMatch(/token=|\/api\/approvals/);
    const status = await app.status();
    expect(page).toContain(status.pendingApproval?.approvalId ?? "no approval");
    expect(page).toContain("Waiting for approval");
    expect(page).toContain("signs in with Microsoft Entra ID");
    expect(page).toMatch(/<td class="kind">rejected<\/td>/);
    expect(page).toContain("not started: no event");
  });

  it("negotiates: Accept picks, ?format decides, anything else is refused, no key no page", async () => {
    const forcedJson = await estate("?format=json", { Accept: "text/html" });
    expect(forcedJson.headers.get("content-type")).toMatch(/application\/json/);
    expect(((await forcedJson.json()) as EstateView).policies).toHaveLength(2);
    const forcedHtml = await estate("?format=html");
    expect(forcedHtml.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await forcedHtml.text()).toMatch(/^<!doctype html>/);
    expect((await estate("?format=xml")).status).toBe(400);
    expect((await fetch(`${app.host.url}/api/estate`)).status).toBe(401);
  });

  it("says what could not be read from Azure, and why, and still shows the reconciler", async () => {
    app.emulator.injectFault({
      kind: "serverError",
      method: "GET",
      pathContains: "managedClusters",
      times: 100,
    });
    try {
      const view = (await (await estate()).json()) as EstateView;
      const [policy] = view.policies;
      expect(policy?.clusters).toEqual({
        read: false,
        error: expect.stringMatching(/^the clusters of subscription .* could not be read \(HTTP 500/),
      });
      expect(policy).toMatchObject({ phase: "awaiting-approval", last: { pass: 1, outcome: "rejected" } });
      expect(policy?.pendingApproval?.approvalId).toBeDefined();
      const page = await (await estate("?format=html")).text();
      expect(page).toContain("The clusters could not be read from Azure:");
      expect(page).toContain("HTTP 500");
      expect(page).toContain("Waiting for approval");
    } finally {
      app.emulator.clearFaults();
    }
  });
});
