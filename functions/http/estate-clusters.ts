// The clusters each policy in scope serves, read live for the estate page by the very choice a pass
// makes (mapClusters in orchestrations/activities/gather.ts: tags, then routes, then the managed group
// and the untagged default), for every policy at once: one cluster list and one virtual-network list
// per subscription, one GET of each policy's managed group, and the network's route tables (then hubs
// and firewalls, when a route can lead to them). Only clusters a group holds that no list showed, and
// node subnets outside the lists, are read one by one.
// It never throws: what could not be read is said per policy, with ARM's reason.
import type { ArmConnection } from "../../azure/clients";
import { readNodeSubnets } from "../../azure/clusters";
import { readManagedGroup } from "../../azure/firewall";
import { parseResourceId } from "../../azure/resource-id";
import { isRestError } from "../../azure/sdk";
import type { Feature } from "../../catalog";
import { type ClusterFacts, profileFromFacts } from "../../drift/cluster-profile";
import type { MappedBy } from "../../drift/served";
import type { Mode } from "../../drift/types";
import { type GatherSettings, mapClusters } from "../../orchestrations/activities/gather";

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
  /**
   * How the policy came to serve it, as a pass decides: its tag names the policy ("tag"), its routes
   * lead to it ("routes"), the managed group holds its rules ("managed group"), or it is untagged and
   * this is the default policy that takes untagged clusters ("untagged default").
   */
  mappedBy: MappedBy;
}

export type PolicyClusters =
  | { read: true; count: number; clusters: EstateCluster[] }
  | { read: false; error: string };

/** ARM's answer in words: "HTTP 403 AuthorizationFailed: …", or the error's own message. */
export function armReason(error: unknown): string {
  if (isRestError(error)) {
    const status = error.statusCode === undefined ? "no HTTP answer" : `HTTP ${error.statusCode}`;
    return `${status}${error.code ? ` ${error.code}` : ""}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** A read that failed, said with what it read. */
class Unreadable extends Error {}

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
 * Per policy (lower-cased ID), the clusters a pass would serve now, and how each is mapped to it.
 * `settings.subscriptions` and each policy's own subscription are listed, as a pass lists them.
 */
export async function readEstateClusters(
  connection: ArmConnection,
  policyIds: readonly string[],
  settings: GatherSettings,
): Promise<Map<string, PolicyClusters>> {
  const said =
    (what: string) =>
    (error: unknown): never => {
      throw new Unreadable(`${what} could not be read (${armReason(error)})`);
    };
  const mapped = mapClusters(connection, policyIds, settings, {
    group: (policyId) =>
      readManagedGroup(connection, policyId, settings.groupName).catch(
        said(`the rule collection group ${settings.groupName} of ${policyId}`),
      ),
    read: (what, read) => read().catch(said(what)),
  });
  const profileSettings = { cloud: settings.cloud, defaultFeatures: settings.defaultFeatures };
  const result = new Map<string, PolicyClusters>();
  await Promise.all(
    policyIds.map(async (policyId) => {
      const key = policyId.toLowerCase();
      try {
        const mapping = await mapped.get(key);
        const clusters: EstateCluster[] = [];
        for (const { facts, mappedBy } of mapping?.served ?? []) {
          const nodeSubnets = await readNodeSubnets(connection, facts, mapping?.subnets);
          const { profile } = profileFromFacts(facts, nodeSubnets.cidrs, profileSettings);
          clusters.push({
            id: facts.id,
            name: facts.name,
            resourceGroup: resourceGroupOf(facts.id),
            region: profile.region,
            features: profile.features,
            ...(profile.mode ? { mode: profile.mode } : {}),
            nodeSubnets: new Set(poolSubnets(facts).map((s) => s.toLowerCase())).size,
            nodeSubnetPrefixes: profile.nodeSubnets,
            mappedBy,
          });
        }
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
}
