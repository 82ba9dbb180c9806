// The azure/ adapters through the real SDK clients against the ARM emulator over HTTPS, with faults.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ArmConnection } from "../../azure/clients";
import { listClusters, readCluster, readNodeSubnets, subnetsByNetworkList } from "../../azure/clusters";
import { readPolicySnapshot, writeManagedGroup } from "../../azure/firewall";
import { isGuardError } from "../../errors";
import {
  type ArmEmulator,
  type FaultSpec,
  startArmEmulator,
  staticTokenCredential,
} from "../../local/arm-emulator";
import { applyPlan, checkPolicy, type PassSettings } from "../../orchestrations/activities/plan";
import { emulatorConnection, POLICY_ID, SMALL_ESTATE, SUBSCRIPTION } from "../local/arm-emulator-helpers";

const CLUSTER_ID = `/subscriptions/${SUBSCRIPTION}/resourcegroups/rg-aks-weu/providers/Microsoft.ContainerService/managedClusters/aks-weu-prod`;
const GROUP = "aks-egress-guard";

const settings: PassSettings = {
  cloud: "AzureCloud",
  groupName: GROUP,
  groupPriority: 300,
  catalogVersion: "2023-06",
  allowAnySource: false,
  subscriptions: [],
  includeUntaggedWhenDefault: false,
  defaultFeatures: [],
};

let emulator: ArmEmulator;
let connection: ArmConnection;

beforeAll(async () => {
  emulator = await startArmEmulator({ seedFile: SMALL_ESTATE, lroDelayMs: 20 });
  connection = emulatorConnection(emulator);
});
afterAll(async () => emulator.close());
beforeEach(() => emulator.reset());

const foreignGroups = () =>
  JSON.stringify(
    emulator.state().ruleCollectionGroups.filter((g) => !String(g.id).toLowerCase().endsWith(`/${GROUP}`)),
  );
const successfulPuts = () =>
  emulator.requests().filter((r) => r.method === "PUT" && r.status >= 200 && r.status < 300);

describe("cluster reader", () => {
  it("reads what the drift engine needs from a cluster", async () => {
    const facts = await readCluster(connection, CLUSTER_ID);
    expect(facts).toMatchObject({
      name: "aks-weu-prod",
      location: "westeurope",
      outboundType: "userDefinedRouting",
      privateCluster: false,
      addons: expect.objectContaining({ omsagent: true }),
    });
    expect(facts?.agentPools.map((p) => p.vmSize)).toContain("Standard_NC6s_v3");
    expect(facts?.tags["aks-egress-guard/firewall-policy"]).toBe(POLICY_ID);
  });

  it("answers undefined for a cluster that does not exist, and lists a subscription", async () => {
    expect(await readCluster(connection, CLUSTER_ID.replace("aks-weu-prod", "gone"))).toBeUndefined();
    expect((await listClusters(connection, SUBSCRIPTION)).map((c) => c.name)).toEqual(["aks-weu-prod"]);
  });

  it("reads node subnets, and reports pools whose subnet is missing or unreadable", async () => {
    const facts = await readCluster(connection, CLUSTER_ID);
    if (facts === undefined) throw new Error("seed cluster missing");
    expect((await readNodeSubnets(connection, facts)).cidrs).toEqual(["10.10.0.0/22", "10.10.4.0/22"]);
    const broken = {
      ...facts,
      agentPools: [
        { name: "managed" },
        {
          name: "lost",
          vnetSubnetId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/nope`,
        },
      ],
    };
    const result = await readNodeSubnets(connection, broken);
    expect(result.cidrs).toEqual([]);
    expect(result.findings.map((f) => f.code)).toEqual(["POOL_WITHOUT_SUBNET", "SUBNET_UNREADABLE"]);
  });
});

describe("node subnets in bulk", () => {
  const gets = () =>
    emulator
      .requests()
      .map((r) => `${r.method} ${r.path.replace(/^\/subscriptions\/[^/]+/, "")} ${r.status}`);
  const subnetIn = (subscription: string, vnet: string, name: string) =>
    `/subscriptions/${subscription}/resourceGroups/rg-network-weu/providers/Microsoft.Network/virtualNetworks/${vnet}/subnets/${name}`;

  it("reads every subnet of a listed subscription from one virtual-network list", async () => {
    const facts = await readCluster(connection, CLUSTER_ID);
    if (facts === undefined) throw new Error("seed cluster missing");
    emulator.clearRequests();
    const source = subnetsByNetworkList(connection, [SUBSCRIPTION.toUpperCase()]);
    expect((await readNodeSubnets(connection, facts, source)).cidrs).toEqual([
      "10.10.0.0/22",
      "10.10.4.0/22",
    ]);
    // A second cluster on the same subnets costs nothing more.
    expect((await readNodeSubnets(connection, facts, source)).cidrs).toHaveLength(2);
    expect(gets()).toEqual(["GET /providers/Microsoft.Network/virtualNetworks 200"]);
    expect(await source.subnet(subnetIn(SUBSCRIPTION, "vnet-aks-weu", "snet-aks-gpu"))).toEqual({
      prefixes: ["10.10.4.0/22"],
      routeTableId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-network-weu/providers/Microsoft.Network/routeTables/rt-aks-egress`,
    });
  });

  it("reads what the list does not show, and subnets of other subscriptions, with a GET of their own", async () => {
    const other = "00000000-0000-0000-0000-00000000beef";
    const facts = {
      ...((await readCluster(connection, CLUSTER_ID)) ?? ({} as never)),
      agentPools: [
        { name: "system", vnetSubnetId: subnetIn(SUBSCRIPTION, "vnet-aks-weu", "snet-aks-system") },
        // A network the list does not show: its subnet's own GET gives ARM's answer (404).
        { name: "lost", vnetSubnetId: subnetIn(SUBSCRIPTION, "vnet-gone", "snet") },
        // A subscription the app was not given: never listed, read by itself.
        { name: "elsewhere", vnetSubnetId: subnetIn(other, "vnet-spoke", "snet-aks") },
      ],
    };
    emulator.upsert({
      id: subnetIn(other, "vnet-spoke", "snet-aks"),
      properties: { addressPrefix: "10.20.0.0/24" },
    });
    emulator.clearRequests();
    const source = subnetsByNetworkList(connection, [SUBSCRIPTION]);
    await source.prefetch(facts.agentPools.map((p) => p.vnetSubnetId));
    const result = await readNodeSubnets(connection, facts, source);
    expect(result.cidrs).toEqual(["10.10.0.0/22", "10.20.0.0/24"]);
    expect(result.findings.map((f) => f.code)).toEqual(["SUBNET_UNREADABLE"]);
    expect(gets()).toEqual([
      "GET /providers/Microsoft.Network/virtualNetworks 200",
      "GET /resourceGroups/rg-network-weu/providers/Microsoft.Network/virtualNetworks/vnet-gone/subnets/snet 404",
      "GET /resourceGroups/rg-network-weu/providers/Microsoft.Network/virtualNetworks/vnet-spoke/subnets/snet-aks 200",
    ]);
  });

  it("a pass reads the estate in five requests: policy, its groups, the clusters, the networks, the route tables", async () => {
    emulator.clearRequests();
    const { gathered } = await checkPolicy(connection, POLICY_ID, settings);
    expect(gathered.clusters.map((c) => c.nodeSubnets)).toEqual([["10.10.0.0/22", "10.10.4.0/22"]]);
    expect(gets()).toEqual([
      "GET /resourceGroups/rg-network-weu/providers/Microsoft.Network/firewallPolicies/fw-policy 200",
      "GET /resourceGroups/rg-network-weu/providers/Microsoft.Network/firewallPolicies/fw-policy/ruleCollectionGroups 200",
      "GET /providers/Microsoft.ContainerService/managedClusters 200",
      "GET /providers/Microsoft.Network/virtualNetworks 200",
      // The node subnets have a route table: the routes say which firewall their egress passes.
      "GET /providers/Microsoft.Network/routeTables 200",
    ]);
  });
});

describe("firewall adapter", () => {
  it("reads the policy's DNS proxy setting and every group", async () => {
    const snapshot = await readPolicySnapshot(connection, POLICY_ID);
    expect(snapshot.dnsProxyEnabled).toBe(true);
    expect(snapshot.groups.map((g) => g.name)).toEqual(["platform-baseline"]);
  });

  it("names a missing policy", async () => {
    await expect(
      readPolicySnapshot(connection, POLICY_ID.replace("fw-policy", "nope")),
    ).rejects.toMatchObject({ code: "POLICY_NOT_FOUND" });
  });

  it("refuses to write any group but its own, and sends nothing", async () => {
    const snapshot = await readPolicySnapshot(connection, POLICY_ID);
    const foreign = snapshot.groups[0];
    if (foreign === undefined) throw new Error("seed group missing");
    emulator.clearRequests();
    await expect(writeManagedGroup(connection, POLICY_ID, GROUP, foreign)).rejects.toThrow(
      /writes only its own group "aks-egress-guard"/,
    );
    expect(emulator.requests()).toEqual([]);
  });

  it("fixes drift with exactly one PUT, then finds none and writes nothing", async () => {
    const before = foreignGroups();
    const { plan, gathered } = await checkPolicy(connection, POLICY_ID, settings);
    expect(plan.action).toBe("put");
    // The seed cluster has the workload identity webhook on (securityProfile.workloadIdentity).
    expect(gathered.clusters.map((c) => c.features)).toEqual([["gpu", "azure-monitor", "workload-identity"]]);
    emulator.clearRequests();
    const result = await applyPlan(connection, POLICY_ID, plan, settings);
    expect(result).toMatchObject({ writes: 1, converged: true });
    expect(successfulPuts()).toHaveLength(1);
    emulator.clearRequests();
    const again = await checkPolicy(connection, POLICY_ID, settings);
    expect(again.plan.action).toBe("none");
    expect(await applyPlan(connection, POLICY_ID, again.plan, settings)).toMatchObject({ writes: 0 });
    expect(emulator.requests().filter((r) => r.method !== "GET")).toEqual([]);
    expect(foreignGroups()).toBe(before);
  });

  it.each<[string, FaultSpec]>([
    [
      "409 AnotherOperationInProgress twice",
      { kind: "conflict", code: "AnotherOperationInProgress", method: "PUT", times: 2 },
    ],
    [
      "409 UpdateNotAllowedWhenUpdatingOrDeleting",
      {
        kind: "conflict",
        code: "FirewallPolicyRuleCollectionGroupUpdateNotAllowedWhenUpdatingOrDeleting",
        method: "PUT",
      },
    ],
    ["429 with Retry-After", { kind: "throttle", retryAfterSeconds: 0, method: "PUT", times: 2 }],
    ["500 on the PUT", { kind: "serverError", method: "PUT" }],
    ["a dropped connection", { kind: "dropConnection", method: "PUT" }],
    ["500 on a read", { kind: "serverError", method: "GET", pathContains: "ruleCollectionGroups" }],
  ])("converges through %s, leaving foreign groups byte-identical", async (_, fault) => {
    const before = foreignGroups();
    const { plan } = await checkPolicy(connection, POLICY_ID, settings);
    emulator.injectFault(fault);
    const result = await applyPlan(connection, POLICY_ID, plan, settings, { budgetMs: 30_000 });
    expect(result.converged).toBe(true);
    expect(successfulPuts()).toHaveLength(1);
    expect(emulator.faults().every((f) => f.remaining === 0)).toBe(true);
    expect(foreignGroups()).toBe(before);
  });

  it("reports an operation that ends Failed, and the next pass converges", async () => {
    const { plan } = await checkPolicy(connection, POLICY_ID, settings);
    emulator.injectFault({ kind: "lroFailed", method: "PUT" });
    await expect(applyPlan(connection, POLICY_ID, plan, settings)).rejects.toMatchObject({
      code: "ARM_WRITE_FAILED",
    });
    const retry = await checkPolicy(connection, POLICY_ID, settings);
    expect((await applyPlan(connection, POLICY_ID, retry.plan, settings)).converged).toBe(true);
  });

  it("refuses a group changed since the plan: 412 on a stale etag, and the content check without one", async () => {
    const first = await checkPolicy(connection, POLICY_ID, settings);
    await applyPlan(connection, POLICY_ID, first.plan, settings);
    // Someone edits the managed group by hand: a rule's ports change.
    const snapshot = await readPolicySnapshot(connection, POLICY_ID);
    const group = snapshot.groups.find((g) => g.name === GROUP);
    if (group === undefined) throw new Error("managed group missing");
    const staleEtag = group.etag;
    const edited = structuredClone(group);
    const rule = edited.ruleCollections[0]?.rules?.[0] as {
      protocols?: { protocolType: string; port: number }[];
    };
    rule.protocols = [{ protocolType: "Https", port: 8443 }];
    await writeManagedGroup(connection, POLICY_ID, GROUP, edited);
    const replan = await checkPolicy(connection, POLICY_ID, settings);
    expect(replan.plan.changes.map((c) => c.kind)).toEqual(["modify"]);
    const body = replan.plan.body;
    if (body === undefined) throw new Error("replan has no body");
    emulator.clearRequests();
    // The etag alone (no content check): Azure's 412 surfaces.
    const stale = await writeManagedGroup(connection, POLICY_ID, GROUP, body, {
      ...(staleEtag ? { etag: staleEtag } : {}),
    }).catch((e: unknown) => e);
    expect(isGuardError(stale, "ARM_PRECONDITION_FAILED")).toBe(true);
    // The content check: a plan made from the group before the edit is refused before any PUT.
    const refused = await writeManagedGroup(connection, POLICY_ID, GROUP, body, {
      expectedBaseHash: first.plan.hash,
    }).catch((e: unknown) => e);
    expect(isGuardError(refused, "ARM_PRECONDITION_FAILED")).toBe(true);
    expect(
      emulator
        .requests()
        .filter((r) => r.method === "PUT")
        .map((r) => r.status),
    ).toEqual([412]);
    expect((await applyPlan(connection, POLICY_ID, replan.plan, settings)).converged).toBe(true);
  });

  it("gives up on a policy that stays busy, within the time limit, and writes nothing", async () => {
    const { plan } = await checkPolicy(connection, POLICY_ID, settings);
    emulator.injectFault({ kind: "conflict", code: "AnotherOperationInProgress", method: "PUT", times: 100 });
    const started = Date.now();
    await expect(applyPlan(connection, POLICY_ID, plan, settings, { budgetMs: 1000 })).rejects.toMatchObject({
      code: "ARM_BUSY_TIMEOUT",
      message: expect.stringMatching(/stayed busy \(409 AnotherOperationInProgress\)/),
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(successfulPuts()).toHaveLength(0);
  });

  it("waits while someone else's write is in flight instead of colliding with it", async () => {
    const { plan } = await checkPolicy(connection, POLICY_ID, settings);
    const snapshot = await readPolicySnapshot(connection, POLICY_ID);
    const foreign = snapshot.groups[0];
    if (foreign === undefined) throw new Error("seed group missing");
    // Another tool rewrites its own group unchanged, slowly; our write must queue behind it.
    emulator.setLroDelay(400);
    const { NetworkManagementClient } = await import("@azure/arm-network");
    const other = new NetworkManagementClient(
      staticTokenCredential(),
      SUBSCRIPTION,
      emulator.clientOptions(),
    );
    await other.firewallPolicyRuleCollectionGroups.beginCreateOrUpdate(
      "rg-network-weu",
      "fw-policy",
      foreign.name,
      {
        priority: foreign.priority,
        ruleCollections: foreign.ruleCollections as never,
      },
    );
    emulator.setLroDelay(20);
    emulator.clearRequests();
    const result = await applyPlan(connection, POLICY_ID, plan, settings);
    expect(result.converged).toBe(true);
    expect(emulator.requests().filter((r) => r.method === "PUT" && r.status === 409)).toEqual([]);
  });
});
