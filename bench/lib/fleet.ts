// Pure inputs for the planning benchmark: a fleet of cluster profiles (as gatherPolicy would hand
// them over) and a firewall policy whose other groups hold many foreign rules.
import { DEFAULT_CATALOG_VERSION, type Feature } from "../../catalog";
import {
  type ClusterProfile,
  desiredGroup,
  type RuleCollection,
  type RuleCollectionGroup,
} from "../../drift";
import { cidrFor, POLICY_ID, SUBSCRIPTION } from "./ids";

/** A realistic fleet: ten regions, eight feature sets (issue 12). */
export const REGIONS = [
  "westeurope",
  "northeurope",
  "swedencentral",
  "uksouth",
  "francecentral",
  "germanywestcentral",
  "eastus",
  "eastus2",
  "centralus",
  "westus2",
];
export const FEATURE_SETS: Feature[][] = [
  [],
  ["azure-monitor"],
  ["azure-policy"],
  ["azure-monitor", "azure-policy"],
  ["gpu"],
  ["windows", "azure-monitor"],
  ["keyvault-secrets-provider", "defender"],
  ["azure-monitor", "workload-identity", "cost-analysis"],
];

export const MANAGED = {
  groupName: "aks-egress-guard",
  groupPriority: 300,
  catalogVersion: DEFAULT_CATALOG_VERSION,
  allowAnySource: false,
};

export function fleet(count: number): ClusterProfile[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `aks-fleet-${String(i).padStart(5, "0")}`;
    return {
      id: `/subscriptions/${SUBSCRIPTION}/resourcegroups/rg-aks-${String(i % 50).padStart(2, "0")}/providers/Microsoft.ContainerService/managedClusters/${name}`,
      name,
      cloud: "AzureCloud",
      region: REGIONS[i % REGIONS.length] ?? "westeurope",
      // Feature sets cycle more slowly than regions, so that every region sees every set.
      features: FEATURE_SETS[Math.floor(i / REGIONS.length) % FEATURE_SETS.length] ?? [],
      parameters: {},
      privateCluster: false,
      // Every fourth cluster has a second node subnet.
      nodeSubnets: i % 4 === 3 ? [cidrFor(i), cidrFor(i, 128)] : [cidrFor(i)],
    };
  });
}

export interface ForeignShape {
  groups: number;
  collectionsPerGroup: number;
  rulesPerCollection: number;
  /** One collection in this many is a Deny collection (Azure Firewall denies by default; explicit Deny is the exception). */
  denyEvery: number;
}

export const FOREIGN_10K: ForeignShape = {
  groups: 10,
  collectionsPerGroup: 10,
  rulesPerCollection: 100,
  denyEvery: 20,
};

/**
 * Other teams' groups: half application rules (HTTPS to their own hosts), half network rules (TCP to
 * their own addresses and ports), sources overlapping the clusters' 10.0.0.0/8; four groups come
 * before the managed group's priority (300), the rest after. Nothing in them matches an AKS
 * requirement, so every Deny is checked against every managed rule without a finding to show for it.
 */
export function foreignGroups(shape: ForeignShape): RuleCollectionGroup[] {
  const priorities = [100, 150, 200, 250, 400, 500, 600, 700, 800, 900, 1000, 1100];
  return Array.from({ length: shape.groups }, (_, g) => {
    const ruleCollections: RuleCollection[] = Array.from({ length: shape.collectionsPerGroup }, (_, c) => {
      const deny = (g * shape.collectionsPerGroup + c) % shape.denyEvery === 0;
      return {
        ruleCollectionType: "FirewallPolicyFilterRuleCollection",
        name: `${deny ? "deny" : "allow"}-team${g}-${c}`,
        priority: 100 + c * 10,
        action: { type: deny ? "Deny" : "Allow" },
        rules: Array.from({ length: shape.rulesPerCollection }, (_, r) =>
          r % 2 === 0
            ? {
                ruleType: "ApplicationRule" as const,
                name: `app-${r}`,
                description: `team ${g} service ${c}-${r}`,
                sourceAddresses: [r % 4 === 0 ? "10.0.0.0/8" : "192.168.0.0/16"],
                protocols: [{ protocolType: "Https" as const, port: 443 }],
                targetFqdns: [`svc-${g}-${c}-${r}.contoso.com`],
              }
            : {
                ruleType: "NetworkRule" as const,
                name: `net-${r}`,
                description: `team ${g} backend ${c}-${r}`,
                ipProtocols: ["TCP" as const],
                sourceAddresses: [r % 4 === 1 ? "10.0.0.0/8" : "192.168.0.0/16"],
                destinationAddresses: [`172.${16 + (g % 16)}.${c}.${r}`],
                destinationPorts: [String(1024 + r)],
              },
        ),
      };
    });
    return { name: `team-${g}`, priority: priorities[g] ?? 2000 + g, ruleCollections };
  });
}

export function foreignRuleCount(groups: readonly RuleCollectionGroup[]): { rules: number; deny: number } {
  let rules = 0;
  let deny = 0;
  for (const g of groups)
    for (const c of g.ruleCollections) {
      rules += c.rules?.length ?? 0;
      if (c.action?.type === "Deny") deny += c.rules?.length ?? 0;
    }
  return { rules, deny };
}

/**
 * The managed group as read in a steady state: every cluster but the newest 1% in step, and one rule
 * someone edited by hand. (It is rendered with the app's own desiredGroup; at this size it may well
 * exceed what Azure would store, which is part of what the benchmark shows.)
 */
export function managedGroupAsRead(clusters: readonly ClusterProfile[]): RuleCollectionGroup {
  const known = clusters.slice(0, clusters.length - Math.max(1, Math.round(clusters.length / 100)));
  const group = desiredGroup(known, undefined, MANAGED).group;
  const edited = group.ruleCollections
    .flatMap((c) => c.rules ?? [])
    .find((r) => r.ruleType === "NetworkRule");
  if (edited && "destinationPorts" in edited && Array.isArray(edited.destinationPorts))
    edited.destinationPorts = [...edited.destinationPorts, "8080"];
  return { ...group, id: `${POLICY_ID}/ruleCollectionGroups/${group.name}`, etag: 'W/"1"' };
}
