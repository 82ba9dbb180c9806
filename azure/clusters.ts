// Reads AKS clusters and their node subnets from ARM and narrows them to ClusterFacts.
// It decides nothing: what the facts mean is drift/cluster-profile.ts's job.
import type { ManagedCluster } from "@azure/arm-containerservice";
import { isRestError } from "@azure/core-rest-pipeline";
import type { ClusterFacts } from "../drift/cluster-profile";
import type { Finding } from "../drift/types";
import { GuardError } from "../errors";
import { type ArmConnection, containerClient, networkClient } from "./clients";
import { MANAGED_CLUSTER_TYPE, parseResourceId } from "./resource-id";

export function factsFromCluster(cluster: ManagedCluster): ClusterFacts {
  const addons: Record<string, boolean> = {};
  for (const [name, profile] of Object.entries(cluster.addonProfiles ?? {})) {
    addons[name.toLowerCase()] = profile.enabled === true;
  }
  return {
    id: cluster.id ?? "",
    name: cluster.name ?? "",
    location: cluster.location,
    ...(cluster.provisioningState ? { provisioningState: cluster.provisioningState } : {}),
    privateCluster: cluster.apiServerAccessProfile?.enablePrivateCluster === true,
    ...(cluster.networkProfile?.outboundType ? { outboundType: cluster.networkProfile.outboundType } : {}),
    agentPools: (cluster.agentPoolProfiles ?? []).map((p) => ({
      name: p.name,
      ...(p.vmSize ? { vmSize: p.vmSize } : {}),
      ...(p.osType ? { osType: p.osType } : {}),
      ...(p.vnetSubnetID ? { vnetSubnetId: p.vnetSubnetID } : {}),
    })),
    addons,
    azureMonitorMetrics: cluster.azureMonitorProfile?.metrics?.enabled === true,
    defender: cluster.securityProfile?.defender?.securityMonitoring?.enabled === true,
    appMonitoring: cluster.azureMonitorProfile?.appMonitoring?.autoInstrumentation?.enabled === true,
    workloadIdentity: cluster.securityProfile?.workloadIdentity?.enabled === true,
    ...(cluster.serviceMeshProfile?.mode ? { serviceMesh: cluster.serviceMeshProfile.mode } : {}),
    webAppRouting: cluster.ingressProfile?.webAppRouting?.enabled === true,
    costAnalysis: cluster.metricsProfile?.costAnalysis?.enabled === true,
    tags: { ...(cluster.tags ?? {}) },
  };
}

/** One cluster, or undefined when ARM says it does not exist (deleted clusters are expected). */
export async function readCluster(
  connection: ArmConnection,
  clusterId: string,
): Promise<ClusterFacts | undefined> {
  const id = parseResourceId(clusterId, MANAGED_CLUSTER_TYPE);
  try {
    const cluster = await containerClient(connection, id.subscriptionId).managedClusters.get(
      id.resourceGroup,
      id.name,
    );
    return factsFromCluster(cluster);
  } catch (error) {
    if (isRestError(error) && error.statusCode === 404) return undefined;
    throw error;
  }
}

/** Every cluster of a subscription. */
export async function listClusters(
  connection: ArmConnection,
  subscriptionId: string,
): Promise<ClusterFacts[]> {
  const clusters: ClusterFacts[] = [];
  for await (const cluster of containerClient(connection, subscriptionId).managedClusters.list()) {
    clusters.push(factsFromCluster(cluster));
  }
  return clusters;
}

export interface NodeSubnets {
  cidrs: string[];
  findings: Finding[];
}

/**
 * The address prefixes of every pool's subnet. A pool without a custom subnet (kubenet/managed VNet)
 * or a subnet that cannot be read is a finding: the rules' sources are never guessed.
 */
export async function readNodeSubnets(
  connection: ArmConnection,
  facts: ClusterFacts,
  cache: Map<string, string[]> = new Map(),
): Promise<NodeSubnets> {
  const cidrs: string[] = [];
  const findings: Finding[] = [];
  for (const pool of facts.agentPools) {
    if (pool.vnetSubnetId === undefined) {
      findings.push({
        code: "POOL_WITHOUT_SUBNET",
        severity: "warning",
        clusterId: facts.id,
        message: `${facts.name}: agent pool ${pool.name} has no vnetSubnetID (managed VNet); its nodes' addresses are not known.`,
      });
      continue;
    }
    const key = pool.vnetSubnetId.toLowerCase();
    let prefixes = cache.get(key);
    if (prefixes === undefined) {
      try {
        prefixes = await readSubnetPrefixes(connection, pool.vnetSubnetId);
      } catch (error) {
        if (!(isRestError(error) && (error.statusCode === 404 || error.statusCode === 403))) throw error;
        findings.push({
          code: "SUBNET_UNREADABLE",
          severity: "error",
          clusterId: facts.id,
          message: `${facts.name}: subnet ${pool.vnetSubnetId} of pool ${pool.name} could not be read (${error.statusCode}).`,
        });
        continue;
      }
      cache.set(key, prefixes);
    }
    cidrs.push(...prefixes);
  }
  return { cidrs: [...new Set(cidrs)].sort(), findings };
}

async function readSubnetPrefixes(connection: ArmConnection, subnetId: string): Promise<string[]> {
  const id = parseResourceId(subnetId);
  const [kind, subnetName] = id.children[0] ?? [];
  if (
    id.type.toLowerCase() !== "microsoft.network/virtualnetworks" ||
    kind?.toLowerCase() !== "subnets" ||
    !subnetName
  ) {
    throw new GuardError("BAD_ARGUMENT", `"${subnetId}" is not a subnet resource ID.`);
  }
  const subnet = await networkClient(connection, id.subscriptionId).subnets.get(
    id.resourceGroup,
    id.name,
    subnetName,
  );
  return [...(subnet.addressPrefix ? [subnet.addressPrefix] : []), ...(subnet.addressPrefixes ?? [])];
}
