// Step 1-3 of a pass (DESIGN §1): the clusters a policy serves, as profiles, and the policy as read.

import { apiServerResolver, type Resolved } from "../../azure/api-server-address";
import type { ArmConnection } from "../../azure/clients";
import {
  listClusters,
  readCluster,
  readNodeSubnets,
  type SubnetFacts,
  type SubnetSource,
  subnetsByNetworkList,
} from "../../azure/clusters";
import { readPolicySnapshot } from "../../azure/firewall";
import { parseResourceId } from "../../azure/resource-id";
import { readNetworkTopology } from "../../azure/topology";
import type { Feature } from "../../catalog";
import { apiServerAddressCheck } from "../../drift/api-server";
import {
  type ClusterFacts,
  featuresOf,
  needsApiServerAddress,
  type ProfileSettings,
  profileFromFacts,
  TAG_FIREWALL_POLICY,
} from "../../drift/cluster-profile";
import { ownerOfCollection } from "../../drift/naming";
import { type MappedBy, servedBy } from "../../drift/served";
import type { ClusterProfile, Finding, PolicySnapshot, RuleCollectionGroup } from "../../drift/types";
import {
  type ClusterEgress,
  deriveEgress,
  type EgressIndex,
  egressIndexOf,
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
  /** DNS servers for public API server addresses (AKS_EGRESS_RESOLVERS); the host's when absent or empty. */
  resolvers?: readonly string[];
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
  /** What network changes concern this policy (topology/concerned.ts): kept by the reconciler. */
  egressIndex: EgressIndex;
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
 * The network these clusters' routes can lead through, read with only the lists that can matter, and
 * whether Azure Firewalls were listed (readNetworkTopology lists them once `firewalls` says so).
 */
async function readTopologyFor(
  connection: ArmConnection,
  clusters: readonly ClusterFacts[],
  subnets: Readonly<Record<string, SubnetRouting>>,
  subscriptions: readonly string[],
): Promise<{ topology: NetworkTopology; firewallsListed: boolean }> {
  let firewallsListed = false;
  const topology = await readNetworkTopology(connection, subscriptions, {
    routeTableSubscriptions: routeTableSubscriptions(clusters, subnets),
    hubs: (routeTables) => needsVirtualHubs(clusters, subnets, routeTables),
    firewalls: (routeTables, hubs) => {
      const needed = needsFirewalls(clusters, subnets, routeTables, hubs);
      firewallsListed ||= needed;
      return needed;
    },
  });
  return { topology, firewallsListed };
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
  const { topology } = await readTopologyFor(connection, clusters, subnets, options.subscriptions);
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

/** A cluster a policy serves, and how it came to (drift/served.ts's order). */
export interface MappedCluster {
  facts: ClusterFacts;
  mappedBy: MappedBy;
}

/** Which clusters one policy serves, and what was read to decide it. */
export interface ClusterMapping {
  /** Every cluster in scope of the policy's pass, by lower-cased ID. */
  candidates: Map<string, ClusterFacts>;
  /** The clusters the policy serves, sorted by ID. */
  served: MappedCluster[];
  /** The policy each candidate's tag names (lower-cased cluster ID → policy ID, undefined when none). */
  taggedPolicy: Map<string, string | undefined>;
  /** Each candidate's node subnet CIDRs as the network lists show them (lower-cased). */
  listedCidrs: Map<string, string[]>;
  /** Where each candidate's egress goes, by lower-cased cluster ID. */
  egressOf: Map<string, ClusterEgress>;
  /** The node subnets, from the same lists (a subnet outside them is read with a GET of its own). */
  subnets: SubnetSource;
  /** The virtual networks those lists showed (DNS servers, peerings), by lower-cased ID. */
  virtualNetworks: Record<string, VirtualNetworkFacts>;
  /** The route tables, firewalls and hubs read for every policy asked about. */
  topology: NetworkTopology;
  /** Whether that read listed Azure Firewalls (only when some route can lead to one). */
  firewallsListed: boolean;
}

export interface MappingReads {
  /** A policy's managed group: a pass has it from the policy it read; the estate page reads it alone. */
  group(policyId: string): Promise<RuleCollectionGroup | undefined>;
  /** Wraps each shared read with what it reads (the estate page says which one failed); as is by default. */
  read?: <T>(what: string, read: () => Promise<T>) => Promise<T>;
}

const subscriptionOf = (resourceId: string) => parseResourceId(resourceId).subscriptionId.toLowerCase();
const subscriptionOrUndefined = (resourceId: string): string | undefined => {
  try {
    return subscriptionOf(resourceId);
  } catch {
    return undefined;
  }
};
const poolSubnets = (facts: ClusterFacts) =>
  facts.agentPools.flatMap((p) => (p.vnetSubnetId ? [p.vnetSubnetId] : []));

/** The subscriptions whose clusters a pass over `policyId` considers: its own and the configured ones. */
export function clusterSubscriptionsOf(policyId: string, settings: GatherSettings): string[] {
  return lower([subscriptionOf(policyId), ...settings.subscriptions]);
}

/**
 * Which clusters each of these policies serves: the one choice a pass (gatherPolicy) and the estate
 * page make, from reads shared by every policy asked about, each done once, in bulk: one cluster list
 * and one virtual-network list per subscription, each policy's managed group, and the network's
 * route tables (then hubs and firewalls, when some route can lead to them; topology/needs.ts) for the
 * subscriptions in scope and those of the policies in scope. Only clusters a group holds that no list
 * showed are read one by one. A policy whose reads failed rejects alone; the others still answer.
 *
 * Per policy, as a pass over it alone decides: its candidates are the clusters of its own and the
 * configured subscriptions (and those its group holds), a subnet counts as listed only when it is in
 * one of those subscriptions, and the policies in scope are its own (policiesInScopeOf).
 */
export function mapClusters(
  connection: ArmConnection,
  policyIds: readonly string[],
  settings: GatherSettings,
  reads: MappingReads,
): Map<string, Promise<ClusterMapping>> {
  const read = reads.read ?? (<T>(_what: string, r: () => Promise<T>) => r());
  // Nobody may await a read yet: each is kept, and its rejection reaches whoever awaits it.
  const once = <T>(cache: Map<string, Promise<T>>, key: string, start: () => Promise<T>): Promise<T> => {
    let promise = cache.get(key);
    if (promise === undefined) {
      promise = start();
      promise.catch(() => undefined);
      cache.set(key, promise);
    }
    return promise;
  };
  const listable = lower(policyIds.flatMap((p) => [subscriptionOrUndefined(p), ...settings.subscriptions]));
  const subnets = subnetsByNetworkList(connection, listable);
  const clusterLists = new Map<string, Promise<ClusterFacts[]>>();
  const networkLists = new Map<string, Promise<void>>();
  const singles = new Map<string, Promise<ClusterFacts | undefined>>();

  interface Candidates {
    own: string[];
    managedIds: Set<string>;
    candidates: Map<string, ClusterFacts>;
    listedSubnets: Record<string, SubnetFacts>;
    listedCidrs: Map<string, string[]>;
  }

  const candidatesOf = async (policyId: string): Promise<Candidates> => {
    const own = clusterSubscriptionsOf(policyId, settings);
    const group = await reads.group(policyId);
    const managedIds = clusterIdsIn(group);
    const candidates = new Map<string, ClusterFacts>();
    // Side by side: ARM throttles per subscription, and each list pages on by itself.
    const lists = await Promise.all(
      own.map((s) =>
        once(clusterLists, s, () =>
          read(`the clusters of subscription ${s}`, () => listClusters(connection, s)),
        ),
      ),
    );
    for (const listed of lists) for (const facts of listed) candidates.set(facts.id.toLowerCase(), facts);
    // Clusters the group holds but the lists did not show: another subscription, or deleted (then stale).
    for (const id of managedIds) {
      if (candidates.has(id)) continue;
      const facts = await once(singles, id, () => read(`cluster ${id}`, () => readCluster(connection, id)));
      if (facts !== undefined) candidates.set(id, facts);
    }

    // The node subnets of every candidate, as the network lists show them (no read of their own): a
    // shared group names no cluster, so the clusters it holds are found by their subnets, and a stale
    // source is traced to the cluster it belongs to, if it is still in scope.
    const inOwn = (subnetId: string) => {
      const s = subscriptionOrUndefined(subnetId);
      return s !== undefined && own.includes(s) ? s : undefined;
    };
    const bySubscription = new Map<string, string>();
    for (const facts of candidates.values())
      for (const subnetId of poolSubnets(facts)) {
        const s = inOwn(subnetId);
        if (s !== undefined && !bySubscription.has(s)) bySubscription.set(s, subnetId);
      }
    await Promise.all(
      [...bySubscription].map(([s, subnetId]) =>
        once(networkLists, s, () =>
          read(`the virtual networks of subscription ${s}`, () => subnets.prefetch([subnetId])),
        ),
      ),
    );
    const listedCidrs = new Map<string, string[]>();
    const listedSubnets: Record<string, SubnetFacts> = {};
    for (const [id, facts] of candidates) {
      const cidrs: string[] = [];
      for (const subnetId of poolSubnets(facts)) {
        const found = inOwn(subnetId) === undefined ? undefined : await subnets.listed(subnetId);
        if (found !== undefined) listedSubnets[subnetId.toLowerCase()] = found;
        cidrs.push(...(found?.prefixes ?? []).map((c) => c.trim().toLowerCase()));
      }
      listedCidrs.set(id, cidrs);
    }
    const sources = sourcesIn(group);
    for (const [id, cidrs] of listedCidrs) if (cidrs.some((c) => sources.has(c))) managedIds.add(id);
    return { own, managedIds, candidates, listedSubnets, listedCidrs };
  };

  const candidates = new Map<string, Promise<Candidates>>();
  for (const policyId of policyIds) once(candidates, policyId.toLowerCase(), () => candidatesOf(policyId));

  // Where the candidates' egress can go (issue 13): one bulk read for every policy asked about, from
  // what their candidates need.
  const topology = (async () => {
    const clusters = new Map<string, ClusterFacts>();
    const listedSubnets: Record<string, SubnetFacts> = {};
    const subscriptions: (string | undefined)[] = [];
    for (const settled of await Promise.allSettled(candidates.values())) {
      if (settled.status === "rejected") continue;
      for (const [id, facts] of settled.value.candidates) clusters.set(id, facts);
      Object.assign(listedSubnets, settled.value.listedSubnets);
      subscriptions.push(...settled.value.own);
    }
    for (const policyId of policyIds)
      for (const p of policiesInScopeOf(policyId, settings)) subscriptions.push(subscriptionOrUndefined(p));
    const all = [...clusters.values()];
    return read("the network's route tables, firewalls and hubs", () =>
      readTopologyFor(connection, all, listedSubnets, lower(subscriptions)),
    );
  })();
  topology.catch(() => undefined);

  const mapping = async (policyId: string): Promise<ClusterMapping> => {
    const c = await (candidates.get(policyId.toLowerCase()) as Promise<Candidates>);
    const virtualNetworks = await subnets.networks(c.own);
    const { topology: network, firewallsListed } = await topology;
    const egress = deriveEgress({
      clusters: [...c.candidates.values()],
      subnets: c.listedSubnets,
      topology: network,
      policiesInScope: policiesInScopeOf(policyId, settings),
      virtualNetworks,
    });
    const egressOf = new Map(egress.map((e) => [e.clusterId.toLowerCase(), e]));
    const options = {
      policyId,
      managedClusterIds: c.managedIds,
      includeUntaggedWhenDefault: settings.includeUntaggedWhenDefault,
      ...(settings.defaultPolicyId ? { defaultPolicyId: settings.defaultPolicyId } : {}),
    };
    const profileSettings = { cloud: settings.cloud, defaultFeatures: settings.defaultFeatures };
    const taggedPolicy = new Map<string, string | undefined>();
    const served: MappedCluster[] = [];
    for (const facts of [...c.candidates.values()].sort((a, b) =>
      a.id.toLowerCase().localeCompare(b.id.toLowerCase()),
    )) {
      const tagged = profileFromFacts(facts, [], profileSettings).firewallPolicyId;
      taggedPolicy.set(facts.id.toLowerCase(), tagged);
      const routed = egressOf.get(facts.id.toLowerCase())?.routedPolicyId;
      const mappedBy = servedBy(
        {
          id: facts.id,
          ...(tagged ? { taggedPolicyId: tagged } : {}),
          ...(routed ? { routedPolicyId: routed } : {}),
        },
        options,
      );
      if (mappedBy !== undefined) served.push({ facts, mappedBy });
    }
    return {
      candidates: c.candidates,
      served,
      taggedPolicy,
      listedCidrs: c.listedCidrs,
      egressOf,
      subnets,
      virtualNetworks,
      topology: network,
      firewallsListed,
    };
  };
  const result = new Map<string, Promise<ClusterMapping>>();
  for (const policyId of policyIds) once(result, policyId.toLowerCase(), () => mapping(policyId));
  return result;
}

/**
 * The public API server addresses the served clusters' rules name (see needsApiServerAddress), by
 * lower-cased cluster ID, asked side by side with one query per FQDN. Clusters that need none are
 * not looked up: most rules use the region's service tag.
 */
async function resolveApiServers(
  clusters: readonly ClusterFacts[],
  profileSettings: ProfileSettings,
  resolvers: readonly string[] | undefined,
): Promise<Map<string, Resolved>> {
  const wanted = clusters.filter((facts) =>
    needsApiServerAddress(facts, featuresOf(facts, profileSettings).features),
  );
  if (wanted.length === 0) return new Map();
  const resolver = apiServerResolver(resolvers);
  const answers = await Promise.all(wanted.map((facts) => resolver.resolve(facts.fqdn as string)));
  return new Map(wanted.map((facts, i) => [facts.id.toLowerCase(), answers[i] as Resolved]));
}

/**
 * Reads the estate once, in bulk (see mapClusters): the policy and its groups (one GET, one list),
 * the clusters (one list per subscription) and their node subnets (one virtual-network list per
 * subscription, see subnetsByNetworkList), then the network's routes. Only clusters the managed group
 * holds but no list showed, and subnets outside the lists, are read one by one. The reads do not grow
 * with the number of clusters.
 */
export async function gatherPolicy(
  connection: ArmConnection,
  policyId: string,
  settings: GatherSettings,
): Promise<GatheredPolicy> {
  const policy = await readPolicySnapshot(connection, policyId);
  const group = policy.groups.find((g) => g.name.toLowerCase() === settings.groupName.toLowerCase());
  const mapped = mapClusters(connection, [policyId], settings, { group: async () => group });
  const mapping = await (mapped.get(policyId.toLowerCase()) as Promise<ClusterMapping>);
  const { candidates, served, taggedPolicy, listedCidrs, egressOf, subnets, virtualNetworks } = mapping;
  const servedFacts = served.map((s) => s.facts);

  const servedIds = new Set(servedFacts.map((f) => f.id.toLowerCase()));
  const sourceOwners: Record<string, string> = {};
  for (const [id, cidrs] of [...listedCidrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    if (!servedIds.has(id)) for (const c of cidrs) sourceOwners[c] ??= id;
  const clusters: ClusterProfile[] = [];
  const findings: Finding[] = [];
  const egress: ClusterEgress[] = [];
  const profileSettings = { cloud: settings.cloud, defaultFeatures: settings.defaultFeatures };
  const addresses = await resolveApiServers(servedFacts, profileSettings, settings.resolvers);
  for (const facts of servedFacts) {
    const nodeSubnets = await readNodeSubnets(connection, facts, subnets);
    // Parameters the network knows: custom DNS servers from the node subnets' virtual networks, the
    // API server subnet, and the public API server's address where a rule names it.
    const resolved = addresses.get(facts.id.toLowerCase());
    let apiServerAddresses: readonly string[] | undefined;
    if (resolved !== undefined && facts.fqdn !== undefined) {
      // A changed address is reported; a failed lookup keeps the address the group allows.
      const checked = apiServerAddressCheck(
        { id: facts.id, name: facts.name, nodeSubnets: nodeSubnets.cidrs },
        facts.fqdn,
        resolved,
        group,
      );
      apiServerAddresses = "addresses" in resolved ? resolved.addresses : checked.keep;
      findings.push(...checked.findings);
    }
    const result = profileFromFacts(facts, nodeSubnets.cidrs, profileSettings, {
      virtualNetworks,
      ...(nodeSubnets.apiServerSubnet ? { apiServerSubnet: nodeSubnets.apiServerSubnet } : {}),
      ...(apiServerAddresses ? { apiServerAddresses } : {}),
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
  const takesUntagged =
    settings.includeUntaggedWhenDefault && settings.defaultPolicyId?.toLowerCase() === policyId.toLowerCase();
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
  return {
    policy,
    clusters,
    findings,
    sourceOwners,
    egress,
    egressIndex: indexOfPass(policyId, mapping, (id) => {
      if (servedIds.has(id) || clusterHeldBy(group, id, listedCidrs.get(id) ?? [])) return true;
      if (taggedPolicy.get(id) !== undefined) return false;
      // An untagged cluster whose routes stop leading to a policy in scope falls to the default
      // policy that takes untagged clusters; one no policy claims has its findings reported here.
      return takesUntagged || (reportsUnclaimed && egressOf.get(id)?.routedPolicyInScope !== true);
    }),
    ...(group?.etag ? { etag: group.etag } : {}),
  };
}

/**
 * The pass's egress index: the paths of the clusters a network change can move to or from this policy
 * (`watched`, by lower-cased ID: those it serves, those its managed group still holds, untagged ones
 * it may take or report), their API server subnets, and its own firewalls.
 */
function indexOfPass(
  policyId: string,
  mapping: ClusterMapping,
  watched: (id: string) => boolean,
): EgressIndex {
  const kept = [...mapping.candidates].filter(([id]) => watched(id));
  return egressIndexOf({
    policyId,
    egress: kept.flatMap(([id]) => {
      const egress = mapping.egressOf.get(id);
      return egress ? [egress] : [];
    }),
    otherIds: kept.flatMap(([, facts]) => [
      ...facts.agentPools.flatMap((p) => (p.vnetSubnetId ? [p.vnetSubnetId] : [])),
      ...(facts.apiServerSubnetId ? [facts.apiServerSubnetId] : []),
    ]),
    topology: mapping.topology,
    firewallsListed: mapping.firewallsListed,
  });
}
