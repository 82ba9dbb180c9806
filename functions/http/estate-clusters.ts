// The clusters each policy in scope serves, read live for the estate page the way a pass reads them
// (orchestrations/activities/gather.ts), but for every policy at once: one cluster list and one
// virtual-network list per subscription, one GET of each policy's managed group. Only clusters a
// group holds that no list showed, and node subnets outside the lists, are read one by one.
// It never throws: what could not be read is said per policy, with ARM's reason.
import type { ArmConnection } from "../../azure/clients";
import { listClusters, readCluster, readNodeSubnets, subnetsByNetworkList } from "../../azure/clusters";
import { readManagedGroup } from "../../azure/firewall";
import { parseResourceId } from "../../azure/resource-id";
import { isRestError } from "../../azure/sdk";
import type { Feature } from "../../catalog";
import { type ClusterFacts, profileFromFacts } from "../../drift/cluster-profile";
import { servesCluster } from "../../drift/served";
import type { Mode, RuleCollectionGroup } from "../../drift/types";
import { clusterIdsIn, type GatherSettings, sourcesIn } from "../../orchestrations/activities/gather";

export interface EstateCluster {
  id: string;
  name: string;
  resourceGroup: string;
  /** Normalised, e.g. "westeurope". */
  region: string;
  /** Features in effect: detected, configured, and the features tag's overrides. */
  features: Feature[];
  /** The cluster's mode override (tag aks-egress-guard/mode), when it has a valid one. */
  mode?: Mode;
  /** Distinct subnets its agent pools run in. */
  nodeSubnets: number;
  /** Their address prefixes as read: the sources of its rules. */
  nodeSubnetPrefixes: string[];
}

export type PolicyClusters =
  | { read: true; count: number; clusters: EstateCluster[] }
  | { read: false; error: string };

type Settled<T> = { ok: true; value: T } | { ok: false; error: string };

/** ARM's answer in words: "HTTP 403 AuthorizationFailed: …", or the error's own message. */
export function armReason(error: unknown): string {
  if (isRestError(error)) {
    const status = error.statusCode === undefined ? "no HTTP answer" : `HTTP ${error.statusCode}`;
    return `${status}${error.code ? ` ${error.code}` : ""}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Never rejects (so that a read nobody awaits yet cannot become an unhandled rejection). */
function settle<T>(what: string, read: () => Promise<T>): Promise<Settled<T>> {
  return new Promise<T>((resolve) => resolve(read())).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error: `${what} could not be read (${armReason(error)})` }),
  );
}

class Unreadable extends Error {}

function readOrThrow<T>(result: Settled<T>): T {
  if (!result.ok) throw new Unreadable(result.error);
  return result.value;
}

const subscriptionOf = (resourceId: string): string | undefined => {
  try {
    return parseResourceId(resourceId).subscriptionId.toLowerCase();
  } catch {
    return undefined;
  }
};

const resourceGroupOf = (resourceId: string): string => {
  try {
    return parseResourceId(resourceId).resourceGroup;
  } catch {
    return "";
  }
};

const poolSubnets = (facts: ClusterFacts) =>
  facts.agentPools.flatMap((p) => (p.vnetSubnetId ? [p.vnetSubnetId] : []));

/**
 * Per policy (lower-cased ID), the clusters a pass would serve now. `settings.subscriptions` and each
 * policy's own subscription are listed, as a pass lists them.
 */
export async function readEstateClusters(
  connection: ArmConnection,
  policyIds: readonly string[],
  settings: GatherSettings,
): Promise<Map<string, PolicyClusters>> {
  const subscriptionsOf = new Map<string, string[]>();
  for (const policyId of policyIds) {
    const own = subscriptionOf(policyId);
    subscriptionsOf.set(policyId.toLowerCase(), [
      ...new Set([...(own ? [own] : []), ...settings.subscriptions.map((s) => s.toLowerCase())]),
    ]);
  }
  const subscriptions = [...new Set([...subscriptionsOf.values()].flat())];

  // Every read the policies share starts now, side by side.
  const lists = new Map(
    subscriptions.map((s) => [
      s,
      settle(`the clusters of subscription ${s}`, () => listClusters(connection, s)),
    ]),
  );
  const groups = new Map(
    policyIds.map((p) => [
      p.toLowerCase(),
      settle(`the rule collection group ${settings.groupName} of ${p}`, () =>
        readManagedGroup(connection, p, settings.groupName),
      ),
    ]),
  );
  const subnets = subnetsByNetworkList(connection, subscriptions);
  // A subscription's virtual networks are listed once, when a cluster in scope first needs them.
  const networks = new Map<string, Promise<Settled<void>>>();
  const networkList = (subnetId: string): Promise<Settled<void>> | undefined => {
    const s = subscriptionOf(subnetId);
    if (s === undefined || !subscriptions.includes(s)) return undefined;
    let read = networks.get(s);
    if (read === undefined) {
      read = settle(`the virtual networks of subscription ${s}`, () => subnets.prefetch([subnetId]));
      networks.set(s, read);
    }
    return read;
  };
  // Clusters a group holds that no list showed: one GET each, shared by the policies that hold them.
  const singles = new Map<string, Promise<Settled<ClusterFacts | undefined>>>();
  const single = (id: string) => {
    let read = singles.get(id);
    if (read === undefined) {
      read = settle(`cluster ${id}`, () => readCluster(connection, id));
      singles.set(id, read);
    }
    return read;
  };

  const result = new Map<string, PolicyClusters>();
  await Promise.all(
    policyIds.map(async (policyId) => {
      const key = policyId.toLowerCase();
      try {
        const clusters = await clustersOf(policyId, subscriptionsOf.get(key) ?? []);
        result.set(key, { read: true, count: clusters.length, clusters });
      } catch (error) {
        result.set(key, {
          read: false,
          error:
            error instanceof Unreadable
              ? error.message
              : `the clusters could not be read (${armReason(error)})`,
        });
      }
    }),
  );
  return result;

  async function clustersOf(policyId: string, own: string[]): Promise<EstateCluster[]> {
    const group = readOrThrow((await groups.get(policyId.toLowerCase())) ?? { ok: true, value: undefined }) as
      | RuleCollectionGroup
      | undefined;
    const managedIds = clusterIdsIn(group);
    const candidates = new Map<string, ClusterFacts>();
    for (const s of own) {
      for (const facts of readOrThrow((await lists.get(s)) ?? { ok: true, value: [] }))
        candidates.set(facts.id.toLowerCase(), facts);
    }
    for (const id of managedIds) {
      if (candidates.has(id)) continue;
      const facts = readOrThrow(await single(id));
      if (facts !== undefined) candidates.set(id, facts);
    }
    // The shared layout names no cluster: the clusters it holds are those whose node subnets it lists.
    const needed = [...candidates.values()].flatMap(poolSubnets).flatMap((id) => networkList(id) ?? []);
    for (const list of await Promise.all(needed)) readOrThrow(list);
    const sources = sourcesIn(group);
    for (const [id, facts] of candidates) {
      for (const subnetId of poolSubnets(facts)) {
        const found = await subnets.listed(subnetId);
        if ((found?.prefixes ?? []).some((c) => sources.has(c.trim().toLowerCase()))) managedIds.add(id);
      }
    }
    const served = {
      policyId,
      managedClusterIds: managedIds,
      includeUntaggedWhenDefault: settings.includeUntaggedWhenDefault,
      ...(settings.defaultPolicyId ? { defaultPolicyId: settings.defaultPolicyId } : {}),
    };
    const profileSettings = { cloud: settings.cloud, defaultFeatures: settings.defaultFeatures };
    const out: EstateCluster[] = [];
    const sorted = [...candidates.values()].sort((a, b) =>
      a.id.toLowerCase().localeCompare(b.id.toLowerCase()),
    );
    for (const facts of sorted) {
      const tagged = profileFromFacts(facts, [], profileSettings).firewallPolicyId;
      if (!servesCluster({ id: facts.id, ...(tagged ? { taggedPolicyId: tagged } : {}) }, served)) continue;
      const nodeSubnets = await readNodeSubnets(connection, facts, subnets);
      const { profile } = profileFromFacts(facts, nodeSubnets.cidrs, profileSettings);
      out.push({
        id: facts.id,
        name: facts.name,
        resourceGroup: resourceGroupOf(facts.id),
        region: profile.region,
        features: profile.features,
        ...(profile.mode ? { mode: profile.mode } : {}),
        nodeSubnets: new Set(poolSubnets(facts).map((s) => s.toLowerCase())).size,
        nodeSubnetPrefixes: profile.nodeSubnets,
      });
    }
    return out;
  }
}
