// Which clusters a firewall policy serves (DESIGN §1, issue 13). In this order:
//   1. a cluster tagged with a policy is served by that policy (the tag is an override: when its
//      routes lead elsewhere, the gathering reports it);
//   2. an untagged cluster whose routes lead to a firewall policy is served by that policy, and by
//      no other (when that policy is not in scope, by none: a finding says so);
//   3. otherwise, as before routes were read: the managed group already holds it, or it is untagged
//      and this is the default policy that includes untagged clusters.
import { clusterKey } from "./naming";

export interface ServedOptions {
  policyId: string;
  /** Cluster IDs (lower-cased) that own collections in the managed group as read. */
  managedClusterIds: ReadonlySet<string>;
  defaultPolicyId?: string;
  /** Serve untagged clusters when this policy is the default (setting). */
  includeUntaggedWhenDefault: boolean;
}

export interface ClusterTagging {
  id: string;
  /** The policy the cluster's tag names (already validated), if any. */
  taggedPolicyId?: string;
  /**
   * The firewall policy every pool's default route leads to (topology's `routedPolicyId`), in scope
   * or not; undefined when the routes lead to no single policy or could not be read.
   */
  routedPolicyId?: string;
}

/** How a policy came to serve a cluster: the rule of the order above that decided. */
export type MappedBy = "tag" | "routes" | "managed group" | "untagged default";

/** Why this policy serves the cluster, or undefined when it does not. */
export function servedBy(cluster: ClusterTagging, options: ServedOptions): MappedBy | undefined {
  const policy = options.policyId.toLowerCase();
  if (cluster.taggedPolicyId !== undefined)
    return cluster.taggedPolicyId.toLowerCase() === policy ? "tag" : undefined;
  if (cluster.routedPolicyId !== undefined)
    return cluster.routedPolicyId.toLowerCase() === policy ? "routes" : undefined;
  if (options.managedClusterIds.has(clusterKey(cluster.id))) return "managed group";
  return options.includeUntaggedWhenDefault && options.defaultPolicyId?.toLowerCase() === policy
    ? "untagged default"
    : undefined;
}

export function servesCluster(cluster: ClusterTagging, options: ServedOptions): boolean {
  return servedBy(cluster, options) !== undefined;
}
