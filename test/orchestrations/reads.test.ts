// One read of the estate per pass, in bulk: the ARM reads of a pass do not grow with the fleet.
// The app's real functions in the local host, passes started by the sweep timer, reads counted from
// the ARM emulator's request log (every GET but the polls of a running write).
import fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ArmEmulator,
  type ArmResource,
  type RequestLogEntry,
  startArmEmulator,
} from "../../local/arm-emulator";
import { matchPattern } from "../../local/arm-emulator/paths";
import { OPERATION_RESULT, OPERATION_STATUS } from "../../local/arm-emulator/writes";
import { SMALL_ESTATE, SUBSCRIPTION } from "../local/arm-emulator-helpers";
import { type AppUnderTest, startApp } from "./app-harness";

const SECOND_SUBSCRIPTION = "00000000-0000-0000-0000-000000000002";
const SUBSCRIPTIONS = [SUBSCRIPTION, SECOND_SUBSCRIPTION];
const CLUSTERS = 30;

const subnetId = (subscription: string, name: string) =>
  `/subscriptions/${subscription}/resourceGroups/rg-network-weu/providers/Microsoft.Network/virtualNetworks/vnet-aks-weu/subnets/${name}`;

interface SeedCluster {
  id: string;
  name: string;
  properties: { agentPoolProfiles: Record<string, unknown>[] };
}

/** The small estate's cluster cloned CLUSTERS times over two subscriptions, a subnet per pool. */
function fleetSeed() {
  const seed = JSON.parse(fs.readFileSync(SMALL_ESTATE, "utf8")) as {
    managedClusters: SeedCluster[];
    subnets: ArmResource[];
    firewallPolicies: ArmResource[];
    ruleCollectionGroups: ArmResource[];
  };
  const [template] = seed.managedClusters;
  const [subnetTemplate] = seed.subnets;
  if (template === undefined || subnetTemplate === undefined) throw new Error("small estate changed");
  const subnets: ArmResource[] = [];
  const clusters = Array.from({ length: CLUSTERS }, (_, i) => {
    const subscription = SUBSCRIPTIONS[i % SUBSCRIPTIONS.length] ?? SUBSCRIPTION;
    const cluster = structuredClone(template);
    cluster.name = `aks-fleet-${String(i).padStart(3, "0")}`;
    cluster.id = `/subscriptions/${subscription}/resourcegroups/rg-aks-weu/providers/Microsoft.ContainerService/managedClusters/${cluster.name}`;
    for (const [j, pool] of cluster.properties.agentPoolProfiles.entries()) {
      const subnet = structuredClone(subnetTemplate) as ArmResource & {
        properties: { addressPrefix: string };
      };
      subnet.name = `snet-${cluster.name}-${j}`;
      subnet.id = subnetId(subscription, subnet.name);
      subnet.properties.addressPrefix = `10.${100 + j}.${i}.0/24`;
      pool.vnetSubnetID = subnet.id;
      subnets.push(subnet);
    }
    return cluster as unknown as ArmResource;
  });
  return { ...seed, managedClusters: clusters, subnets };
}

const isPoll = (r: RequestLogEntry) =>
  matchPattern(OPERATION_STATUS, r.path) !== undefined ||
  matchPattern(OPERATION_RESULT, r.path) !== undefined;
/** Each read as "GET <path without the subscription>", sorted: what a pass asked ARM for. */
const reads = (emulator: ArmEmulator) =>
  emulator
    .requests()
    .filter((r) => r.method === "GET" && !isPoll(r))
    .map((r) => `GET ${r.path.replace(/^\/subscriptions\/[^/]+/, "")}`)
    .sort();

const POLICY = "/resourceGroups/rg-network-weu/providers/Microsoft.Network/firewallPolicies/fw-policy";
const ESTATE_READS = [
  `GET ${POLICY}`,
  `GET ${POLICY}/ruleCollectionGroups`,
  // One list per subscription each: the clusters, and the networks with their subnets embedded.
  "GET /providers/Microsoft.ContainerService/managedClusters",
  "GET /providers/Microsoft.ContainerService/managedClusters",
  "GET /providers/Microsoft.Network/virtualNetworks",
  "GET /providers/Microsoft.Network/virtualNetworks",
  // Where their egress goes (issue 13): the route tables of the one subscription the node subnets'
  // route table is in. No firewalls or hubs: no route read leads to either.
  "GET /providers/Microsoft.Network/routeTables",
];

let app: AppUnderTest | undefined;
let emulator: ArmEmulator | undefined;
afterEach(async () => {
  await app?.close();
  await emulator?.close();
  app = undefined;
  emulator = undefined;
});

async function sweep(a: AppUnderTest): Promise<void> {
  const response = await fetch(`${a.host.url}/admin/functions/sweep`, {
    method: "POST",
    headers: { "x-functions-key": "test-master-key", "Content-Type": "application/json" },
    body: "{}",
  });
  await response.arrayBuffer();
  expect(response.status).toBe(202);
}

describe("ARM reads per pass", () => {
  it(`${CLUSTERS} clusters in 2 subscriptions: a no-drift pass reads 7 times, a writing pass 12, however many clusters`, async () => {
    emulator = await startArmEmulator({ seed: fleetSeed(), lroDelayMs: 20 });
    app = await startApp({ emulator, settings: { AKS_EGRESS_SUBSCRIPTIONS: SECOND_SUBSCRIPTION } });

    // Pass 1 brings the policy in step (it creates the managed group).
    await sweep(app);
    expect((await app.waitForPass(1, 30_000)).last).toMatchObject({
      outcome: "applied",
      clusterCount: CLUSTERS,
    });

    // Pass 2: nothing changed. The estate is read once, in bulk, and nothing else.
    emulator.clearRequests();
    await sweep(app);
    expect((await app.waitForPass(2, 30_000)).last?.outcome).toBe("no-drift");
    const noDrift = reads(emulator);
    expect(noDrift).toEqual([...ESTATE_READS].sort());
    // DESIGN target: at most 5 + 2 × subscriptions + groups, independent of the number of clusters.
    expect(noDrift.length).toBeLessThanOrEqual(5 + 2 * SUBSCRIPTIONS.length + 1);

    // Pass 3: a cluster in the second subscription gains a pool on a new subnet.
    const cluster = emulator
      .state()
      .managedClusters.find((c) => c.name === "aks-fleet-001") as unknown as SeedCluster;
    const [system] = cluster.properties.agentPoolProfiles;
    const newSubnet = subnetId(SECOND_SUBSCRIPTION, "snet-aks-fleet-001-extra");
    emulator.upsert({
      id: newSubnet,
      properties: { provisioningState: "Succeeded", addressPrefix: "10.200.1.0/24" },
    });
    cluster.properties.agentPoolProfiles.push({ ...system, name: "extra", vnetSubnetID: newSubnet });
    emulator.upsert(cluster as unknown as ArmResource);
    emulator.clearRequests();
    await sweep(app);
    expect((await app.waitForPass(3, 30_000)).last?.outcome).toBe("applied");
    // The estate once; before the PUT the policy and the managed group (busy? still what the plan
    // was made from?); after it the written group alone, read back. Not the estate again.
    expect(reads(emulator)).toEqual(
      [
        ...ESTATE_READS,
        // The new pool's subnet has no route table: a Virtual WAN hub could carry its egress, so the
        // hubs of both subscriptions are listed (issue 13).
        "GET /providers/Microsoft.Network/virtualHubs",
        "GET /providers/Microsoft.Network/virtualHubs",
        `GET ${POLICY}`,
        `GET ${POLICY}/ruleCollectionGroups/aks-egress-guard`,
        `GET ${POLICY}/ruleCollectionGroups/aks-egress-guard`,
      ].sort(),
    );
    const puts = emulator.requests().filter((r) => r.method === "PUT");
    expect(puts.map((r) => r.status)).toEqual([200]);
    expect(JSON.stringify(puts[0]?.body)).toContain("10.200.1.0/24");
  }, 90_000);

  it("an apply on a worker that did not plan the change plans again, and writes only that same change", async () => {
    emulator = await startArmEmulator({ seed: fleetSeed(), lroDelayMs: 20 });
    const stateDir = fs.mkdtempSync(path.join(tmpdir(), "aks-egress-reads-"));
    const settings = { AKS_EGRESS_SUBSCRIPTIONS: SECOND_SUBSCRIPTION, AKS_EGRESS_MODE: "approve" };
    try {
      const first = await startApp({ emulator, stateDir, settings });
      await sweep(first);
      const asked = await first.waitForPhase("awaiting-approval", 30_000);
      const link = new URL(first.approvalLinks()[0] ?? "");
      await first.close();
      // While no worker holds the plan, a cluster gains a pool, and no event says so.
      const cluster = emulator
        .state()
        .managedClusters.find((c) => c.name === "aks-fleet-002") as unknown as SeedCluster;
      const [system] = cluster.properties.agentPoolProfiles;
      const newSubnet = subnetId(SUBSCRIPTION, "snet-aks-fleet-002-extra");
      emulator.upsert({ id: newSubnet, properties: { addressPrefix: "10.200.2.0/24" } });
      cluster.properties.agentPoolProfiles.push({ ...system, name: "extra", vnetSubnetID: newSubnet });
      emulator.upsert(cluster as unknown as ArmResource);

      // A new process: the approved body is not in memory, so the apply reads the estate and plans
      // again; the plan is another change now, so nothing is written and a person is asked again.
      app = await startApp({ emulator, stateDir, settings });
      emulator.clearRequests();
      const approve = await fetch(`${app.host.url}${link.pathname}${link.search}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ decision: "approve" }),
      });
      expect(approve.status).toBe(200);
      let again = await app.status();
      for (let i = 0; i < 300 && !(again.pass >= 2 && again.phase === "awaiting-approval"); i++) {
        await new Promise((r) => setTimeout(r, 100));
        again = await app.status();
      }
      expect(again.last).toMatchObject({ pass: 1, outcome: "superseded" });
      expect(again.pendingApproval?.changeHash).not.toBe(asked.pendingApproval?.changeHash);
      expect(emulator.requests().filter((r) => r.method === "PUT")).toEqual([]);
      expect(reads(emulator).filter((r) => r.endsWith("/virtualNetworks"))).toHaveLength(4);
    } finally {
      // The host still writes its state while it runs: stop it before its directory goes.
      await app?.close();
      app = undefined;
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  }, 90_000);
});
