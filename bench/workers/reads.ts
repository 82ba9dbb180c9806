// `npm run bench -- reads`, one run: the ARM reads of one pass of a policy in an estate of N clusters
// spread over S subscriptions, through the app in the local host (the sweep timer run on demand),
// counted from the ARM emulator's request log: once with the policy in step (no drift), once after a
// cluster it serves gained a pool on a new subnet (the pass writes and verifies).
//
// The policy serves `perPolicy` clusters (by default all of them: one shared managed group holds
// thousands, README "Capacity"); the rest are tagged to other firewall policies. The pass reads the
// whole estate to find the clusters it serves either way, and that is what is counted.

import type { ArmEmulator, ArmResource, EmulatorSeed } from "../../local/arm-emulator";
import { startArmEmulator } from "../../local/arm-emulator";
import {
  clusterResource,
  DENY_RISKY_PROTOCOLS,
  groupResource,
  subnetResource,
} from "../../local/demo/arm-resources";
import { countByKind, passLines, type RequestKind, readsOf } from "../lib/arm-log";
import { appSettingsFor, BENCH_POLICY, passSettingsOf, syncPolicy } from "../lib/estate";
import { startBenchHost } from "../lib/host";
import { cidrFor, NETWORK_RG, POLICY_ID, SUBSCRIPTION } from "../lib/ids";
import { workerMain } from "../lib/worker";

export interface ReadsArgs {
  clusters: number;
  subscriptions: number;
  perPolicy: number;
  timeoutMs: number;
}

export interface ReadsResult {
  clusters: number;
  subscriptions: number;
  /** The clusters the benchmarked policy serves. */
  served: number;
  /** Managed rule collection groups on the policy. */
  groups: number;
  noDrift: { reads: number; counts: Record<RequestKind, number>; outcome: string; passMs: number };
  writing: { reads: number; counts: Record<RequestKind, number>; outcome: string; passMs: number };
}

const REGIONS = ["westeurope", "northeurope", "swedencentral", "uksouth"];
const ADDON_SETS: string[][] = [[], ["omsagent"], ["azurepolicy"], ["omsagent", "azurepolicy"]];
/** Subnets per spoke network: real networks hold a few hundred at most. */
const SUBNETS_PER_NETWORK = 100;
const FOREIGN_GROUP = "platform-baseline";

/** The i-th subscription: the policy's own first. */
export function subscriptionFor(index: number): string {
  return index === 0
    ? SUBSCRIPTION
    : `00000000-0000-0000-0000-${(0xb1 + index).toString(16).padStart(12, "0")}`;
}

const policyIdFor = (index: number) =>
  index === 0 ? POLICY_ID : POLICY_ID.replace(/fw-bench$/, `fw-bench-${index}`);

interface Fleet {
  seed: EmulatorSeed;
  /** A cluster the policy serves, to give a new pool. */
  first: { resource: ArmResource; subscription: string };
  served: number;
}

function subnetIdFor(subscription: string, index: number, name: string): string {
  const network = `vnet-spokes-${String(Math.floor(index / SUBNETS_PER_NETWORK)).padStart(2, "0")}`;
  return `/subscriptions/${subscription}/resourceGroups/${NETWORK_RG}/providers/Microsoft.Network/virtualNetworks/${network}/subnets/${name}`;
}

function fleet(args: ReadsArgs): Fleet {
  const clusters: ArmResource[] = [];
  const subnets: ArmResource[] = [];
  let served = 0;
  for (let i = 0; i < args.clusters; i++) {
    const subscription = subscriptionFor(i % args.subscriptions);
    const name = `aks-bench-${String(i).padStart(4, "0")}`;
    const subnet = subnetIdFor(subscription, i, `snet-${name}`);
    const policy = Math.floor(i / args.perPolicy);
    if (policy === 0) served += 1;
    subnets.push(subnetResource(subnet, cidrFor(i)) as unknown as ArmResource);
    clusters.push(
      clusterResource({
        id: `/subscriptions/${subscription}/resourcegroups/rg-aks-${String(i % 10).padStart(2, "0")}/providers/Microsoft.ContainerService/managedClusters/${name}`,
        name,
        region: REGIONS[i % REGIONS.length] ?? "westeurope",
        policyId: policyIdFor(policy),
        environment: "bench",
        addons: ADDON_SETS[i % ADDON_SETS.length] ?? [],
        pools: [{ name: "system", vmSize: "Standard_D4ds_v5", subnetId: subnet }],
      }) as unknown as ArmResource,
    );
  }
  const [first] = clusters;
  if (first === undefined) throw new Error("bench reads: --clusters must be at least 1");
  return {
    served,
    first: { resource: first, subscription: SUBSCRIPTION },
    seed: {
      managedClusters: clusters,
      subnets,
      firewallPolicies: [BENCH_POLICY],
      ruleCollectionGroups: [
        groupResource(POLICY_ID, {
          name: FOREIGN_GROUP,
          priority: 200,
          ruleCollections: [DENY_RISKY_PROTOCOLS],
        }) as unknown as ArmResource,
      ],
    },
  };
}

/** Cluster 0 (served, in the policy's subscription) gains a pool on a new subnet, as Azure would show it. */
function addPool(emulator: ArmEmulator, first: Fleet["first"]): void {
  const cluster = structuredClone(first.resource) as ArmResource & {
    properties: { agentPoolProfiles: Record<string, unknown>[] };
  };
  const subnet = subnetIdFor(first.subscription, 0, "snet-aks-bench-0000-gpu");
  emulator.upsert(subnetResource(subnet, cidrFor(0, 128)) as unknown as ArmResource);
  const [system] = cluster.properties.agentPoolProfiles;
  cluster.properties.agentPoolProfiles.push({
    ...system,
    name: "gpu",
    vmSize: "Standard_NC6s_v3",
    vnetSubnetID: subnet,
  });
  emulator.upsert(cluster);
}

workerMain<ReadsArgs, ReadsResult>(async (args) => {
  const built = fleet(args);
  const emulator = await startArmEmulator({ seed: built.seed, lroDelayMs: 0 });
  try {
    const appSettings = {
      ...appSettingsFor(emulator, 0),
      ...(args.subscriptions > 1
        ? {
            AKS_EGRESS_SUBSCRIPTIONS: Array.from({ length: args.subscriptions - 1 }, (_, i) =>
              subscriptionFor(i + 1),
            ).join(","),
          }
        : {}),
    };
    await syncPolicy(emulator, passSettingsOf(appSettings), 0);
    const groups = emulator
      .state()
      .ruleCollectionGroups.filter(
        (g) => g.name !== FOREIGN_GROUP && String(g.id).startsWith(POLICY_ID),
      ).length;
    const app = await startBenchHost(appSettings);
    try {
      let passes = 0;
      const pass = async () => {
        emulator.clearRequests();
        const logged = app.logs.length;
        await app.runTimer("sweep");
        passes += 1;
        // settle() waits for every started pass to complete and the reconciler to stay idle.
        for (const deadline = Date.now() + args.timeoutMs; app.count("PassCompleted") < passes; ) {
          if (Date.now() > deadline)
            throw new Error(`pass ${passes} did not complete in ${args.timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 50));
        }
        await app.settle(args.timeoutMs, 200);
        const counts = countByKind(emulator.requests());
        const { lines, outcome } = passLines(app.logs.slice(logged));
        return {
          reads: readsOf(counts),
          counts,
          outcome,
          passMs: Date.parse(lines.at(-1)?.time ?? "") - Date.parse(lines[0]?.time ?? ""),
        };
      };
      const noDrift = await pass();
      addPool(emulator, built.first);
      const writing = await pass();
      return {
        clusters: args.clusters,
        subscriptions: args.subscriptions,
        served: built.served,
        groups,
        noDrift,
        writing,
      };
    } finally {
      await app.close();
    }
  } finally {
    await emulator.close();
  }
});
