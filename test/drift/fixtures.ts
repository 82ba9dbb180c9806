// Small builders for the drift tests: clusters, settings, policies, and groups "as Azure returns them".
import type { ClusterProfile, ManagedGroupSettings, PolicySnapshot, RuleCollectionGroup } from "../../drift";

export const SUB = "11111111-1111-1111-1111-111111111111";
export const POLICY_ID = `/subscriptions/${SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/firewallPolicies/fp-hub`;

export const settings: ManagedGroupSettings = {
  groupName: "aks-egress-guard",
  groupPriority: 500,
  catalogVersion: "2023-06",
  allowAnySource: false,
};

export function clusterId(name: string, rg = `rg-${name}`): string {
  return `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`;
}

export function cluster(name: string, overrides: Partial<ClusterProfile> = {}): ClusterProfile {
  return {
    id: clusterId(name),
    name,
    cloud: "AzureCloud",
    region: "westeurope",
    features: [],
    parameters: {},
    privateCluster: false,
    nodeSubnets: ["10.1.0.0/22"],
    ...overrides,
  };
}

export function policy(groups: RuleCollectionGroup[], dnsProxyEnabled = true): PolicySnapshot {
  return { id: POLICY_ID, dnsProxyEnabled, groups };
}

/** A group as a GET returns it: read-only fields and the defaults the service fills into every rule. */
export function asRead(group: RuleCollectionGroup): RuleCollectionGroup {
  const copy = structuredClone(group);
  return {
    ...copy,
    id: `${POLICY_ID}/ruleCollectionGroups/${copy.name}`,
    etag: 'W/"00000000-0000-0000-0000-000000000001"',
    provisioningState: "Succeeded",
    ruleCollections: copy.ruleCollections.map((c) => ({
      ...c,
      rules: (c.rules ?? []).map((r) =>
        r.ruleType === "ApplicationRule"
          ? { sourceIpGroups: [], fqdnTags: [], targetUrls: [], terminateTLS: false, webCategories: [], ...r }
          : {
              sourceIpGroups: [],
              destinationIpGroups: [],
              destinationAddresses: [],
              destinationFqdns: [],
              ...r,
            },
      ),
    })),
  };
}

/** The managed group's collections as (name, priority) pairs, for stability checks. */
export function slots(group: RuleCollectionGroup | undefined): [string, number][] {
  return (group?.ruleCollections ?? []).map((c) => [c.name, c.priority]);
}
