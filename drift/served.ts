// Which clusters a firewall policy serves (issue "Drift engine", §1): clusters tagged with it, clusters
// its managed group already holds (unless now tagged with another policy: then they are stale here),
// and, when configured, untagged clusters if this policy is the default one.
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
}

export function servesCluster(cluster: ClusterTagging, options: ServedOptions): boolean {
  const policy = options.policyId.toLowerCase();
  if (cluster.taggedPolicyId !== undefined) return cluster.taggedPolicyId.toLowerCase() === policy;
  if (options.managedClusterIds.has(clusterKey(cluster.id))) return true;
  return options.includeUntaggedWhenDefault && options.defaultPolicyId?.toLowerCase() === policy;
}
