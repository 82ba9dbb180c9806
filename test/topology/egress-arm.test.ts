// Emulator → adapters (real SDK) → mapping: untagged clusters find their firewall policy by their
// routes, across a hub subscription and a Virtual WAN secured hub; the bypassing one is reported.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { networkClient } from "../../azure/clients";
import { listClusters, subnetsByNetworkList } from "../../azure/clusters";
import { readNetworkTopology, virtualNetworkFacts } from "../../azure/topology";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import {
  type ClusterEgress,
  deriveEgress,
  formatClusterEgress,
  type SubnetRouting,
  type VirtualNetworkFacts,
} from "../../topology";
import { emulatorConnection } from "../local/arm-emulator-helpers";
import { clusterResource, HUB_SUB, IDS, SPOKE_SUB, topologySeed } from "./estate";

let emulator: ArmEmulator;

beforeAll(async () => {
  emulator = await startArmEmulator({
    seed: {
      ...topologySeed(),
      managedClusters: [
        clusterResource("aks-routed", { system: IDS.snetRouted, user: IDS.snetRoutedUser }),
        clusterResource("aks-bypass", { system: IDS.snetInternet }),
        clusterResource("aks-vwan", { system: IDS.snetVwan }),
        clusterResource("aks-legacy", { system: IDS.snetLegacy }),
        clusterResource("aks-split", { system: IDS.snetRouted, batch: IDS.snetVwan }),
        clusterResource("aks-lb", { system: IDS.snetNoTable }, "loadBalancer"),
      ],
    },
  });
});
afterAll(async () => emulator.close());

describe("route-derived mapping against the emulator", () => {
  it("follows each cluster's routes to its firewall policy, and names what is wrong", async () => {
    const connection = emulatorConnection(emulator);
    const subscriptions = [SPOKE_SUB, HUB_SUB];
    // One list of clusters, one list of networks and one list each of route tables, firewalls and
    // hubs per subscription: what a pass reads.
    const clusters = await listClusters(connection, SPOKE_SUB);
    const source = subnetsByNetworkList(connection, subscriptions);
    const subnetIds = clusters.flatMap((c) =>
      c.agentPools.flatMap((p) => (p.vnetSubnetId ? [p.vnetSubnetId] : [])),
    );
    await source.prefetch(subnetIds);
    const subnets: Record<string, SubnetRouting> = {};
    for (const id of subnetIds) subnets[id.toLowerCase()] = await source.subnet(id);
    const virtualNetworks: Record<string, VirtualNetworkFacts> = {};
    for await (const network of networkClient(connection, SPOKE_SUB).virtualNetworks.listAll()) {
      const facts = virtualNetworkFacts(network);
      virtualNetworks[facts.id.toLowerCase()] = facts;
    }
    const topology = await readNetworkTopology(connection, subscriptions);

    const egress = deriveEgress({
      clusters,
      subnets,
      topology,
      virtualNetworks,
      policiesInScope: [IDS.policy, IDS.vwanPolicy],
    });
    const byName = new Map<string, ClusterEgress>(egress.map((e) => [e.clusterName, e]));
    const summary = (name: string) => {
      const e = byName.get(name);
      return {
        policy: e?.routedPolicyId?.split("/").at(-1),
        inScope: e?.routedPolicyInScope,
        findings: e?.findings.map((f) => f.code),
      };
    };
    expect(summary("aks-routed")).toEqual({ policy: "fw-policy-hub", inScope: true, findings: [] });
    expect(summary("aks-bypass")).toEqual({
      policy: undefined,
      inScope: false,
      findings: ["EGRESS_BYPASSES_FIREWALL"],
    });
    expect(summary("aks-vwan")).toEqual({ policy: "fw-policy-vwan", inScope: true, findings: [] });
    expect(summary("aks-legacy")).toEqual({
      policy: "fw-policy-legacy",
      inScope: false,
      findings: ["FIREWALL_POLICY_NOT_IN_SCOPE"],
    });
    expect(summary("aks-split")).toEqual({
      policy: undefined,
      inScope: false,
      findings: ["POOLS_ROUTE_TO_DIFFERENT_FIREWALLS"],
    });
    expect(summary("aks-lb")).toEqual({ policy: undefined, inScope: false, findings: [] });

    const bypass = byName.get("aks-bypass")?.findings[0];
    expect(bypass).toMatchObject({
      pool: "system",
      subnetId: IDS.snetInternet,
      routeTableId: IDS.rtInternet,
    });
    expect(bypass?.clusterId).toMatch(/managedClusters\/aks-bypass$/);
    expect(formatClusterEgress(byName.get("aks-routed") as ClusterEgress)).toEqual([
      "aks-routed: its routes lead to policy fw-policy-hub",
      "  pool system: subnet snet-routed (10.20.0.0/22) → route table rt-to-firewall → 0.0.0.0/0 via VirtualAppliance 10.0.1.4 → Azure Firewall fw-hub-weu → policy fw-policy-hub",
      "  pool user: subnet snet-routed-user (10.20.4.0/22) → route table rt-to-firewall → 0.0.0.0/0 via VirtualAppliance 10.0.1.4 → Azure Firewall fw-hub-weu → policy fw-policy-hub",
    ]);
    expect(formatClusterEgress(byName.get("aks-vwan") as ClusterEgress)[1]).toBe(
      "  pool system: subnet snet-vwan (10.30.0.0/22) → no route table → virtual hub vhub-weu (routing intent InternetTraffic) → Azure Firewall fw-vhub-weu → policy fw-policy-vwan",
    );
    // Reads do not grow with the clusters: no GET of a single subnet, route table or firewall.
    const singles = emulator
      .requests()
      .filter((r) => /\/(subnets|routeTables|azureFirewalls)\/[^/]+$/.test(r.path));
    expect(singles).toEqual([]);
  });
});
