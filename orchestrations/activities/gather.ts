// Step 1-3 of a pass (DESIGN §1): the clusters a policy serves, as profiles, and the policy as read.

import type { ArmConnection } from "../../azure/clients";
import { listClusters, readCluster, readNodeSubnets, subnetsByNetworkList } from "../../azure/clusters";
import { readPolicySnapshot } from "../../azure/firewall";
import { parseResourceId } from "../../azure/resource-id";
import type { Feature } from "../../catalog";
import { type ClusterFacts, profileFromFacts } from "../../drift/cluster-profile";
import { ownerOfCollection } from "../../drift/naming";
import { servesCluster } from "../../drift/served";
import type { ClusterProfile, Finding, PolicySnapshot, RuleCollectionGroup } from "../../drift/types";

export interface GatherSettings {
  cloud: ClusterProfile["cloud"];
  groupName: string;
  /** Subscriptions whose clusters are considered, besides the policy's own. */
  subscriptions: readonly string[];
  defaultPolicyId?: string;
  includeUntaggedWhenDefault: boolean;
  /** Features that cannot be detected on a cluster (e.g. ubuntu-updates). */
  defaultFeatures: readonly Feature[];
}

export interface GatheredPolicy {
  policy: PolicySnapshot;
  clusters: ClusterProfile[];
  findings: Finding[];
  /** The managed group's etag as read (sent as If-Match on write). */
  etag?: string;
}

export function managedClusterIds(policy: PolicySnapshot, groupName: string): Set<string> {
  return clusterIdsIn(policy.groups.find((g) => g.name.toLowerCase() === groupName.toLowerCase()));
}

/** The clusters a managed group holds rules for: each collection's rules name their cluster. */
export function clusterIdsIn(group: RuleCollectionGroup | undefined): Set<string> {
  const ids = new Set<string>();
  for (const collection of group?.ruleCollections ?? []) {
    const owner = ownerOfCollection(collection.rules);
    if (owner !== undefined) ids.add(owner);
  }
  return ids;
}

/**
 * Reads the estate once, in bulk: the policy and its groups (one GET, one list), the clusters (one
 * list per subscription) and their node subnets (one virtual-network list per subscription, see
 * subnetsByNetworkList). Only clusters the managed group holds but no list showed, and subnets
 * outside the lists, are read one by one. The reads do not grow with the number of clusters.
 */
export async function gatherPolicy(
  connection: ArmConnection,
  policyId: string,
  settings: GatherSettings,
): Promise<GatheredPolicy> {
  const policy = await readPolicySnapshot(connection, policyId);
  const managedIds = managedClusterIds(policy, settings.groupName);
  const subscriptions = [
    ...new Set(
      [parseResourceId(policyId).subscriptionId, ...settings.subscriptions].map((s) => s.toLowerCase()),
    ),
  ];

  const candidates = new Map<string, ClusterFacts>();
  // Side by side: ARM throttles per subscription, and each list pages on by itself.
  for (const listed of await Promise.all(subscriptions.map((s) => listClusters(connection, s)))) {
    for (const facts of listed) candidates.set(facts.id.toLowerCase(), facts);
  }
  // Clusters the group holds but the scan did not see: another subscription, or deleted (then stale).
  for (const id of managedIds) {
    if (candidates.has(id)) continue;
    const facts = await readCluster(connection, id);
    if (facts !== undefined) candidates.set(id, facts);
  }

  const served = {
    policyId,
    managedClusterIds: managedIds,
    includeUntaggedWhenDefault: settings.includeUntaggedWhenDefault,
    ...(settings.defaultPolicyId ? { defaultPolicyId: settings.defaultPolicyId } : {}),
  };
  const servedFacts = [...candidates.values()]
    .sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()))
    .filter((facts) => {
      const first = profileFromFacts(facts, [], {
        cloud: settings.cloud,
        defaultFeatures: settings.defaultFeatures,
      });
      const tagging = {
        id: facts.id,
        ...(first.firewallPolicyId ? { taggedPolicyId: first.firewallPolicyId } : {}),
      };
      return servesCluster(tagging, served);
    });

  const subnets = subnetsByNetworkList(connection, subscriptions);
  await subnets.prefetch(
    servedFacts.flatMap((facts) => facts.agentPools.flatMap((p) => (p.vnetSubnetId ? [p.vnetSubnetId] : []))),
  );
  const clusters: ClusterProfile[] = [];
  const findings: Finding[] = [];
  for (const facts of servedFacts) {
    const nodeSubnets = await readNodeSubnets(connection, facts, subnets);
    const result = profileFromFacts(facts, nodeSubnets.cidrs, {
      cloud: settings.cloud,
      defaultFeatures: settings.defaultFeatures,
    });
    findings.push(...result.findings, ...nodeSubnets.findings);
    clusters.push(result.profile);
  }
  const group = policy.groups.find((g) => g.name.toLowerCase() === settings.groupName.toLowerCase());
  return { policy, clusters, findings, ...(group?.etag ? { etag: group.etag } : {}) };
}
