// Emulated estates for the benchmarks, in ARM's wire format (the shapes of local/demo/make-estates.ts):
// one firewall policy, M AKS clusters tagged to it, one node subnet per pool, and a small foreign
// group. The managed group is not seeded: each benchmark brings the policy in step with the app's
// own code first (see syncPolicy), so "in step" means exactly what the app computes.
import { armConnection } from "../../azure/clients";
import type { ArmEmulator, ArmResource, EmulatorSeed } from "../../local/arm-emulator";
import {
  clusterResource as armCluster,
  subnetResource as armSubnet,
  DENY_RISKY_PROTOCOLS,
  groupResource,
} from "../../local/demo/arm-resources";
import { passSettingsFrom } from "../../orchestrations/activities/handlers";
import { applyPlan, checkPolicy, type PassSettings } from "../../orchestrations/activities/plan";
import { loadSettings } from "../../orchestrations/settings";
import { cidrFor, NETWORK_RG, POLICY_ID, SUBSCRIPTION } from "./ids";

export { cidrFor, POLICY_ID, SUBSCRIPTION };

const VNET = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${NETWORK_RG}/providers/Microsoft.Network/virtualNetworks/vnet-spokes`;
export const SIGNING_KEY = "bench-signing-key-0123456789-abcdefghijkl";
/** The app's identity (events it causes are dropped); the bench's events come from a person. */
export const APP_OBJECT_ID = "9d3f6b2e-5a4c-4e1f-9b8a-7c6d5e4f3a21";

const REGIONS = ["westeurope", "northeurope", "swedencentral", "uksouth"];
/** A spread of add-ons, so clusters need different feature rules (detected as the app detects them). */
const ADDON_SETS: string[][] = [[], ["omsagent"], ["azurepolicy"], ["omsagent", "azurepolicy"]];

interface Pool {
  name: string;
  vmSize: string;
  subnetName: string;
  cidr: string;
}

/** A cluster as the bench keeps it, so that it can add pools and re-send the resource. */
export interface BenchCluster {
  index: number;
  id: string;
  name: string;
  region: string;
  addons: string[];
  pools: Pool[];
}

export function makeClusters(count: number): BenchCluster[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `aks-bench-${String(i).padStart(4, "0")}`;
    const resourceGroup = `rg-aks-${String(i % 10).padStart(2, "0")}`;
    return {
      index: i,
      id: `/subscriptions/${SUBSCRIPTION}/resourcegroups/${resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${name}`,
      name,
      region: REGIONS[i % REGIONS.length] ?? "westeurope",
      addons: ADDON_SETS[i % ADDON_SETS.length] ?? [],
      pools: [{ name: "system", vmSize: "Standard_D4ds_v5", subnetName: `snet-${name}`, cidr: cidrFor(i) }],
    };
  });
}

export function clusterResource(c: BenchCluster): ArmResource {
  return armCluster({
    id: c.id,
    name: c.name,
    region: c.region,
    policyId: POLICY_ID,
    environment: "bench",
    addons: c.addons,
    pools: c.pools.map((p) => ({
      name: p.name,
      vmSize: p.vmSize,
      subnetId: `${VNET}/subnets/${p.subnetName}`,
    })),
  });
}

export function subnetResource(p: Pool): ArmResource {
  return armSubnet(`${VNET}/subnets/${p.subnetName}`, p.cidr);
}

/** Adds one agent pool on a new subnet to the cluster (every third a GPU pool), as Azure would. */
export function addPool(emulator: ArmEmulator, cluster: BenchCluster, i: number): void {
  const pool = {
    name: `p${i}`,
    vmSize: i % 3 === 2 ? "Standard_NC6s_v3" : "Standard_D4ds_v5",
    subnetName: `snet-${cluster.name}-p${i}`,
    cidr: cidrFor(i, 128),
  };
  cluster.pools.push(pool);
  emulator.upsert(subnetResource(pool));
  emulator.upsert(clusterResource(cluster));
}

// drift's rule types have optional fields, which the emulator's JSON type does not spell out.
const FOREIGN_GROUP = groupResource(POLICY_ID, {
  name: "platform-baseline",
  priority: 200,
  ruleCollections: [DENY_RISKY_PROTOCOLS],
}) as unknown as ArmResource;

/** The benchmarks' firewall policy: Standard, DNS proxy on (FQDN network rules allowed). */
export const BENCH_POLICY = {
  id: POLICY_ID,
  name: "fw-bench",
  type: "Microsoft.Network/FirewallPolicies",
  location: "westeurope",
  properties: {
    provisioningState: "Succeeded",
    sku: { tier: "Standard" },
    threatIntelMode: "Alert",
    dnsSettings: { servers: [], enableProxy: true },
  },
};

export function estateSeed(clusters: readonly BenchCluster[]): EmulatorSeed {
  return {
    managedClusters: clusters.map(clusterResource),
    subnets: clusters.flatMap((c) => c.pools.map(subnetResource)),
    firewallPolicies: [BENCH_POLICY],
    ruleCollectionGroups: [FOREIGN_GROUP],
  };
}

/** The app settings every benchmark's host gets (and the bench's own direct calls use, via loadSettings). */
export function appSettingsFor(
  emulator: Pick<ArmEmulator, "endpoint" | "caFile">,
  debounceSeconds: number,
): Record<string, string> {
  return {
    AKS_EGRESS_TASK_HUB: "benchhub",
    AKS_EGRESS_FIREWALL_POLICIES: POLICY_ID,
    AKS_EGRESS_APPROVAL_SIGNING_KEY: SIGNING_KEY,
    AKS_EGRESS_APP_OBJECT_ID: APP_OBJECT_ID,
    AKS_EGRESS_ARM_ENDPOINT: emulator.endpoint,
    AKS_EGRESS_ARM_CA_FILE: emulator.caFile,
    AKS_EGRESS_DEBOUNCE_SECONDS: String(debounceSeconds),
    AKS_EGRESS_MODE: "auto",
    AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
    AKS_EGRESS_CATALOG_WATCH_SCHEDULE: "0 30 5 * * *",
  };
}

/** The pass settings the deployed app derives from those app settings. */
export function passSettingsOf(settings: Record<string, string>): PassSettings {
  return passSettingsFrom(loadSettings(settings));
}

/** A direct ARM connection to the emulator, configured as the app configures its own. */
export function connectionTo(emulator: ArmEmulator) {
  return armConnection("AzureCloud", emulator.endpoint, emulator.caCertPem);
}

/**
 * Brings the policy in step with the clusters using the app's own plan and write (no LRO delay), then
 * restores the delay and clears the request log: benchmarks start from a converged policy.
 */
export async function syncPolicy(emulator: ArmEmulator, settings: PassSettings, lroDelayMs: number) {
  emulator.setLroDelay(0);
  const connection = connectionTo(emulator);
  const { plan } = await checkPolicy(connection, POLICY_ID, settings);
  // The plan carries the group's etag and content hash as read: applyPlan checks both.
  const result = await applyPlan(connection, POLICY_ID, plan, settings);
  if (!result.converged) throw new Error("bench: the initial sync of the policy did not converge");
  emulator.setLroDelay(lroDelayMs);
  emulator.clearRequests();
}
