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
  /**
   * Node subnet CIDRs of clusters in scope that this policy does not serve (lower-cased CIDR →
   * lower-cased cluster ID), as the network lists show them: names whose a stale source was.
   */
  sourceOwners: Record<string, string>;
}

export function managedClusterIds(policy: PolicySnapshot, groupName: string): Set<string> {
  return clusterIdsIn(policy.groups.find((g) => g.name.toLowerCase() === groupName.toLowerCase()));
}

/**
 * The clusters a managed group in the per-cluster layout holds rules for: each collection's rules
 * name their cluster. The shared layout names none: see sourcesIn and clusterHeldBy.
 */
export function clusterIdsIn(group: RuleCollectionGroup | undefined): Set<string> {
  const ids = new Set<string>();
  for (const collection of group?.ruleCollections ?? []) {
    const owner = ownerOfCollection(collection.rules);
    if (owner !== undefined) ids.add(owner);
  }
  return ids;
}

/** Every source address the group's rules name, lower-cased. */
export function sourcesIn(group: RuleCollectionGroup | undefined): Set<string> {
  const sources = new Set<string>();
  for (const collection of group?.ruleCollections ?? [])
    for (const rule of collection.rules ?? []) {
      const list = (rule as { sourceAddresses?: unknown }).sourceAddresses;
      if (Array.isArray(list))
        for (const s of list) if (typeof s === "string") sources.add(s.trim().toLowerCase());
    }
  return sources;
}

/**
 * Whether the group holds rules for this cluster: its collections name it (per-cluster layout), or
 * its rules' sources include one of the cluster's node subnets (shared layout).
 */
export function clusterHeldBy(
  group: RuleCollectionGroup | undefined,
  clusterId: string,
  cidrs: readonly string[],
): boolean {
  if (clusterIdsIn(group).has(clusterId.trim().toLowerCase())) return true;
  const sources = sourcesIn(group);
  return cidrs.some((c) => sources.has(c.trim().toLowerCase()));
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

  // The node subnets of every cluster in scope, as the network lists show them (no read of their own):
  // a shared group names no cluster, so the clusters it holds are found by their subnets, and a
  // stale source is traced to the cluster it belongs to, if it is still in scope.
  const subnets = subnetsByNetworkList(connection, subscriptions);
  await subnets.prefetch(
    [...candidates.values()].flatMap((facts) =>
      facts.agentPools.flatMap((p) => (p.vnetSubnetId ? [p.vnetSubnetId] : [])),
    ),
  );
  const listedCidrs = new Map<string, string[]>();
  for (const [id, facts] of candidates) {
    const cidrs: string[] = [];
    for (const pool of facts.agentPools) {
      if (pool.vnetSubnetId === undefined) continue;
      const found = await subnets.listed(pool.vnetSubnetId);
      cidrs.push(...(found?.prefixes ?? []).map((c) => c.trim().toLowerCase()));
    }
    listedCidrs.set(id, cidrs);
  }
  const groupSources = sourcesIn(
    policy.groups.find((g) => g.name.toLowerCase() === settings.groupName.toLowerCase()),
  );
  for (const [id, cidrs] of listedCidrs) if (cidrs.some((c) => groupSources.has(c))) managedIds.add(id);

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

  await subnets.prefetch(
    servedFacts.flatMap((facts) => facts.agentPools.flatMap((p) => (p.vnetSubnetId ? [p.vnetSubnetId] : []))),
  );
  const servedIds = new Set(servedFacts.map((f) => f.id.toLowerCase()));
  const sourceOwners: Record<string, string> = {};
  for (const [id, cidrs] of [...listedCidrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    if (!servedIds.has(id)) for (const c of cidrs) sourceOwners[c] ??= id;
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
  return { policy, clusters, findings, sourceOwners, ...(group?.etag ? { etag: group.etag } : {}) };
}
