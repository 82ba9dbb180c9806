// Step 1-3 of a pass (DESIGN §1): the clusters a policy serves, as profiles, and the policy as read.

import type { ArmConnection } from "../../azure/clients";
import {
  listClusters,
  readCluster,
  readNodeSubnets,
  type SubnetFacts,
  subnetsByNetworkList,
} from "../../azure/clusters";
import { readPolicySnapshot } from "../../azure/firewall";
import { parseResourceId } from "../../azure/resource-id";
import { readNetworkTopology } from "../../azure/topology";
import type { Feature } from "../../catalog";
import { type ClusterFacts, profileFromFacts, TAG_FIREWALL_POLICY } from "../../drift/cluster-profile";
import { ownerOfCollection } from "../../drift/naming";
import { servesCluster } from "../../drift/served";
import type { ClusterProfile, Finding, PolicySnapshot, RuleCollectionGroup } from "../../drift/types";
import {
  type ClusterEgress,
  deriveEgress,
  formatEgressPath,
  type NetworkTopology,
  nameOf,
  needsFirewalls,
  needsVirtualHubs,
  routeEvidence,
  routeTableSubscriptions,
  type SubnetRouting,
  type VirtualNetworkFacts,
} from "../../topology";

export interface GatherSettings {
  cloud: ClusterProfile["cloud"];
  groupName: string;
  /** Subscriptions whose clusters are considered, besides the policy's own. */
  subscriptions: readonly string[];
  defaultPolicyId?: string;
  includeUntaggedWhenDefault: boolean;
  /** Features that cannot be detected on a cluster (e.g. ubuntu-updates). */
  defaultFeatures: readonly Feature[];
  /**
   * Every firewall policy the deployment manages (AKS_EGRESS_FIREWALL_POLICIES): an untagged cluster
   * whose routes lead to one of them is that policy's, and their subscriptions' networks (hubs often
   * live there) are read for the routes. This policy and the default one are always in scope.
   */
  policiesInScope?: readonly string[];
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
  /** Where each served cluster's egress goes, as its routes say (issue 13). */
  egress: ClusterEgress[];
}

/** The cluster finding that a tag overrides the routes. */
export const TAG_DISAGREES_WITH_ROUTES = "TAG_DISAGREES_WITH_ROUTES";

const lower = (ids: Iterable<string | undefined>) =>
  [...new Set([...ids].flatMap((id) => (id ? [id.trim().toLowerCase()] : [])))].filter((id) => id !== "");

/** The policies in scope of a pass over `policyId`, lower-cased: it, the default, and the configured ones. */
export function policiesInScopeOf(policyId: string, settings: GatherSettings): string[] {
  return lower([policyId, settings.defaultPolicyId, ...(settings.policiesInScope ?? [])]);
}

/**
 * Where these clusters' egress goes: the network read once, in bulk (route tables in the subscriptions
 * the node subnets' tables are in, then hubs and firewalls only when some route can lead to them; see
 * topology/needs.ts), over `subscriptions` (the ones in scope and those of the policies in scope).
 */
export async function readEgress(
  connection: ArmConnection,
  clusters: readonly ClusterFacts[],
  subnets: Readonly<Record<string, SubnetRouting>>,
  options: {
    subscriptions: readonly string[];
    policiesInScope: readonly string[];
    virtualNetworks?: Readonly<Record<string, VirtualNetworkFacts>>;
  },
): Promise<{ egress: ClusterEgress[]; topology: NetworkTopology }> {
  const topology = await readNetworkTopology(connection, options.subscriptions, {
    routeTableSubscriptions: routeTableSubscriptions(clusters, subnets),
    hubs: (routeTables) => needsVirtualHubs(clusters, subnets, routeTables),
    firewalls: (routeTables, hubs) => needsFirewalls(clusters, subnets, routeTables, hubs),
  });
  const egress = deriveEgress({
    clusters,
    subnets,
    topology,
    policiesInScope: options.policiesInScope,
    ...(options.virtualNetworks ? { virtualNetworks: options.virtualNetworks } : {}),
  });
  return { egress, topology };
}

/** A tag that names another policy than the routes lead to: the tag wins, and this says so. */
export function tagDisagreement(
  facts: ClusterFacts,
  taggedPolicyId: string,
  egress: ClusterEgress | undefined,
): Finding | undefined {
  const routed = egress?.routedPolicyId;
  if (routed === undefined || routed.toLowerCase() === taggedPolicyId.toLowerCase()) return undefined;
  const paths = (egress?.pools ?? [])
    .filter((p) => p.outcome === "firewall")
    .map((p) => `pool ${p.pool}: ${formatEgressPath(p)}`)
    .join("; ");
  return {
    code: TAG_DISAGREES_WITH_ROUTES,
    severity: "warning",
    clusterId: facts.id,
    message: `${facts.name}: its tag ${TAG_FIREWALL_POLICY} names policy ${nameOf(taggedPolicyId)}, but its routes lead to policy ${nameOf(routed)}${egress?.routedPolicyInScope ? "" : " (not in scope)"} (${paths}); the tag wins, so its rules are kept in ${nameOf(taggedPolicyId)}, which its egress does not pass.`,
  };
}

/** OUTBOUND_NOT_UDR with the route evidence beside it: what the subnets' routes say all the same. */
function withRouteEvidence(finding: Finding, egress: ClusterEgress | undefined): Finding {
  if (finding.code !== "OUTBOUND_NOT_UDR" || egress === undefined || egress.pools.length === 0)
    return finding;
  return { ...finding, message: `${finding.message} ${routeEvidence(egress)}` };
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
  const listedSubnets: Record<string, SubnetFacts> = {};
  for (const [id, facts] of candidates) {
    const cidrs: string[] = [];
    for (const pool of facts.agentPools) {
      if (pool.vnetSubnetId === undefined) continue;
      const found = await subnets.listed(pool.vnetSubnetId);
      if (found !== undefined) listedSubnets[pool.vnetSubnetId.toLowerCase()] = found;
      cidrs.push(...(found?.prefixes ?? []).map((c) => c.trim().toLowerCase()));
    }
    listedCidrs.set(id, cidrs);
  }

  // Where each candidate's egress goes (issue 13): from the same network lists, and one bulk read of
  // route tables (then hubs and firewalls, when a route can lead to them) for the subscriptions in
  // scope and those of the policies in scope.
  const inScope = policiesInScopeOf(policyId, settings);
  const routing = await readEgress(connection, [...candidates.values()], listedSubnets, {
    subscriptions: lower([...subscriptions, ...inScope.map((p) => parseResourceId(p).subscriptionId)]),
    policiesInScope: inScope,
    virtualNetworks: await subnets.networks(),
  });
  const egressOf = new Map(routing.egress.map((e) => [e.clusterId.toLowerCase(), e]));
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
  const taggedPolicy = new Map<string, string | undefined>();
  const servedFacts = [...candidates.values()]
    .sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()))
    .filter((facts) => {
      const first = profileFromFacts(facts, [], {
        cloud: settings.cloud,
        defaultFeatures: settings.defaultFeatures,
      });
      taggedPolicy.set(facts.id.toLowerCase(), first.firewallPolicyId);
      const routed = egressOf.get(facts.id.toLowerCase())?.routedPolicyId;
      const tagging = {
        id: facts.id,
        ...(first.firewallPolicyId ? { taggedPolicyId: first.firewallPolicyId } : {}),
        ...(routed ? { routedPolicyId: routed } : {}),
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
  const egress: ClusterEgress[] = [];
  for (const facts of servedFacts) {
    const nodeSubnets = await readNodeSubnets(connection, facts, subnets);
    const result = profileFromFacts(facts, nodeSubnets.cidrs, {
      cloud: settings.cloud,
      defaultFeatures: settings.defaultFeatures,
    });
    const routes = egressOf.get(facts.id.toLowerCase());
    const disagreement = result.firewallPolicyId
      ? tagDisagreement(facts, result.firewallPolicyId, routes)
      : undefined;
    findings.push(
      ...result.findings.map((f) => withRouteEvidence(f, routes)),
      ...nodeSubnets.findings,
      ...(disagreement ? [disagreement] : []),
      ...(routes?.findings ?? []),
    );
    clusters.push(result.profile);
    if (routes !== undefined) egress.push(routes);
  }
  // Untagged clusters no policy in scope takes by their routes (they lead nowhere, or to a policy out
  // of scope): their egress findings are reported by the default policy when it takes untagged
  // clusters, and otherwise by every policy in scope, so that someone hears of them.
  const reportsUnclaimed =
    !(settings.includeUntaggedWhenDefault && settings.defaultPolicyId) ||
    settings.defaultPolicyId?.toLowerCase() === policyId.toLowerCase();
  if (reportsUnclaimed) {
    for (const facts of [...candidates.values()].sort((a, b) => a.id.localeCompare(b.id))) {
      const id = facts.id.toLowerCase();
      if (servedIds.has(id) || taggedPolicy.get(id) !== undefined) continue;
      const routes = egressOf.get(id);
      if (routes === undefined || routes.routedPolicyInScope) continue;
      findings.push(...routes.findings);
    }
  }
  const group = policy.groups.find((g) => g.name.toLowerCase() === settings.groupName.toLowerCase());
  return {
    policy,
    clusters,
    findings,
    sourceOwners,
    egress,
    ...(group?.etag ? { etag: group.etag } : {}),
  };
}
