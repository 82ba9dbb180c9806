// Reads AKS clusters and their node subnets from ARM and narrows them to ClusterFacts.
// It decides nothing: what the facts mean is drift/cluster-profile.ts's job.
import type { ManagedCluster } from "@azure/arm-containerservice";
import type { Subnet } from "@azure/arm-network";
import type { ClusterFacts } from "../drift/cluster-profile";
import type { Finding } from "../drift/types";
import { GuardError } from "../errors";
import type { VirtualNetworkFacts } from "../topology";
import { type ArmConnection, containerClient, networkClient } from "./clients";
import { MANAGED_CLUSTER_TYPE, parseResourceId } from "./resource-id";
import { isRestError } from "./sdk";
import { virtualNetworkFacts } from "./topology";

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
    ...(cluster.fqdn ? { fqdn: cluster.fqdn } : {}),
    ...(cluster.networkProfile?.outboundType ? { outboundType: cluster.networkProfile.outboundType } : {}),
    ...(cluster.apiServerAccessProfile?.subnetId
      ? { apiServerSubnetId: cluster.apiServerAccessProfile.subnetId }
      : {}),
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
  /** The prefixes of the API server subnet (API server VNet integration), from the same lists. */
  apiServerSubnet?: string[];
}

/** A node subnet as a pass needs it. */
export interface SubnetFacts {
  /** `addressPrefix` and `addressPrefixes`, as ARM gives them. */
  prefixes: string[];
  /** The route table the subnet sends its traffic through (where its egress goes; DESIGN §3). */
  routeTableId?: string;
}

/**
 * Where a pass gets its node subnets from. Either way a subnet that does not exist or may not be read
 * rejects with ARM's own RestError (404/403), which readNodeSubnets turns into a finding.
 */
export interface SubnetSource {
  subnet(subnetId: string): Promise<SubnetFacts>;
}

/** One GET per distinct subnet (kept for the pass): for a cluster or two, as the CLI reads them. */
export function subnetsByGet(connection: ArmConnection): SubnetSource {
  const read = new Map<string, Promise<SubnetFacts>>();
  return {
    subnet(subnetId) {
      const key = subnetId.toLowerCase();
      let facts = read.get(key);
      if (facts === undefined) {
        facts = getSubnet(connection, subnetId);
        read.set(key, facts);
      }
      return facts;
    },
  };
}

/**
 * Every node subnet of a pass from one virtual-network list per subscription: ARM's list
 * (`GET /subscriptions/{s}/providers/Microsoft.Network/virtualNetworks`) embeds each network's
 * subnets with their prefixes and route table, so the reads no longer grow with the fleet. ARM's own
 * list is used rather than Azure Resource Graph because it is strongly consistent: a subnet changed a
 * second ago reads as it is now, whereas Resource Graph's index lags ARM by seconds to minutes, and a
 * pass that writes firewall rules from a stale prefix would open the wrong sources.
 *
 * Only the subscriptions the app was given are listed (`listed`); a subnet elsewhere, or one the list
 * does not show, is read with a GET of its own (subnetsByGet): listing a whole subscription the app
 * was not given could be refused (its Reader may be granted on that network alone) or be far larger
 * than the few subnets needed; and a network missing from a list may be newer than the list, or
 * readable to the app by itself only, so the subnet's own GET gives ARM's authoritative answer (the
 * 404 or 403 that becomes a finding) rather than a guess. A subscription whose list is refused
 * (403) or unknown (404) falls back to those GETs too.
 */
export function subnetsByNetworkList(
  connection: ArmConnection,
  listed: Iterable<string>,
): SubnetSource & {
  /** Starts the lists of these subnets' subscriptions at once, side by side. */
  prefetch(subnetIds: Iterable<string>): Promise<void>;
  /** The subnet as a list already read shows it; undefined otherwise (never a read of its own). */
  listed(subnetId: string): Promise<SubnetFacts | undefined>;
  /**
   * The virtual networks the lists read so far showed (DNS servers, peerings), by lower-cased ID:
   * the same list entries the subnets came from, no read of their own. With `subscriptions`, only
   * those subscriptions' lists (a list that failed elsewhere then does not matter).
   */
  networks(subscriptions?: Iterable<string>): Promise<Record<string, VirtualNetworkFacts>>;
} {
  const subscriptions = new Set([...listed].map((s) => s.toLowerCase()));
  const lists = new Map<string, Promise<NetworkList | undefined>>();
  const single = subnetsByGet(connection);
  const listOf = (subscriptionId: string) => {
    const key = subscriptionId.toLowerCase();
    let list = lists.get(key);
    if (list === undefined) {
      list = listSubnets(connection, subscriptionId);
      lists.set(key, list);
    }
    return list;
  };
  const listable = (subnetId: string): string | undefined => {
    const subscriptionId = subnetParts(subnetId).subscriptionId;
    return subscriptions.has(subscriptionId.toLowerCase()) ? subscriptionId : undefined;
  };
  return {
    async subnet(subnetId) {
      const subscriptionId = listable(subnetId);
      if (subscriptionId !== undefined) {
        const found = (await listOf(subscriptionId))?.subnets.get(subnetId.toLowerCase());
        if (found !== undefined) return found;
      }
      return single.subnet(subnetId);
    },
    async listed(subnetId) {
      let subscriptionId: string | undefined;
      try {
        subscriptionId = listable(subnetId);
      } catch {
        return undefined;
      }
      if (subscriptionId === undefined || !lists.has(subscriptionId.toLowerCase())) return undefined;
      return (await listOf(subscriptionId))?.subnets.get(subnetId.toLowerCase());
    },
    async networks(only) {
      const wanted = only === undefined ? undefined : new Set([...only].map((s) => s.toLowerCase()));
      const networks: Record<string, VirtualNetworkFacts> = {};
      const read = [...lists].filter(([s]) => wanted === undefined || wanted.has(s)).map(([, l]) => l);
      for (const list of await Promise.all(read))
        for (const [id, network] of list?.networks ?? []) networks[id] = network;
      return networks;
    },
    async prefetch(subnetIds) {
      const needed = new Set<string>();
      for (const id of subnetIds) {
        let subscriptionId: string | undefined;
        try {
          subscriptionId = listable(id);
        } catch {
          // A malformed ID is reported when its pool is read, as before; here it only lists nothing.
        }
        if (subscriptionId !== undefined) needed.add(subscriptionId);
      }
      await Promise.all([...needed].map((s) => listOf(s)));
    },
  };
}

interface NetworkList {
  subnets: Map<string, SubnetFacts>;
  networks: Map<string, VirtualNetworkFacts>;
}

/**
 * Subnets and their networks by lower-cased ID, from one paged list; undefined when the list is
 * refused or unknown.
 */
async function listSubnets(
  connection: ArmConnection,
  subscriptionId: string,
): Promise<NetworkList | undefined> {
  const subnets = new Map<string, SubnetFacts>();
  const networks = new Map<string, VirtualNetworkFacts>();
  try {
    for await (const network of networkClient(connection, subscriptionId).virtualNetworks.listAll()) {
      if (network.id) networks.set(network.id.toLowerCase(), virtualNetworkFacts(network));
      for (const subnet of network.subnets ?? []) {
        if (subnet.id) subnets.set(subnet.id.toLowerCase(), subnetFacts(subnet));
      }
    }
  } catch (error) {
    if (isRestError(error) && (error.statusCode === 403 || error.statusCode === 404)) return undefined;
    throw error;
  }
  return { subnets, networks };
}

/**
 * The address prefixes of every pool's subnet. A pool without a custom subnet (kubenet/managed VNet)
 * or a subnet that cannot be read is a finding: the rules' sources are never guessed.
 */
export async function readNodeSubnets(
  connection: ArmConnection,
  facts: ClusterFacts,
  source: SubnetSource = subnetsByGet(connection),
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
    const subnet = await readOrReport(source, pool.vnetSubnetId, findings, (status) => ({
      code: "SUBNET_UNREADABLE",
      severity: "error",
      clusterId: facts.id,
      message: `${facts.name}: subnet ${pool.vnetSubnetId} of pool ${pool.name} could not be read (${status}).`,
    }));
    if (subnet !== undefined) cidrs.push(...subnet.prefixes);
  }
  // The API server subnet (API server VNet integration), read as the node subnets are.
  const apiServer =
    facts.apiServerSubnetId === undefined
      ? undefined
      : await readOrReport(source, facts.apiServerSubnetId, findings, (status) => ({
          code: "SUBNET_UNREADABLE",
          severity: "warning",
          clusterId: facts.id,
          message: `${facts.name}: its API server subnet ${facts.apiServerSubnetId} could not be read (${status}); a rule that names it is not written.`,
        }));
  return {
    cidrs: [...new Set(cidrs)].sort(),
    findings,
    ...(apiServer ? { apiServerSubnet: apiServer.prefixes } : {}),
  };
}

/** A subnet, or undefined with a finding when ARM says it does not exist or may not be read. */
async function readOrReport(
  source: SubnetSource,
  subnetId: string,
  findings: Finding[],
  unreadable: (status: number) => Finding,
): Promise<SubnetFacts | undefined> {
  try {
    return await source.subnet(subnetId);
  } catch (error) {
    if (!(isRestError(error) && (error.statusCode === 404 || error.statusCode === 403))) throw error;
    findings.push(unreadable(error.statusCode));
    return undefined;
  }
}

function subnetParts(subnetId: string) {
  const id = parseResourceId(subnetId);
  const [kind, subnetName] = id.children[0] ?? [];
  if (
    id.type.toLowerCase() !== "microsoft.network/virtualnetworks" ||
    kind?.toLowerCase() !== "subnets" ||
    !subnetName ||
    id.children.length !== 1
  ) {
    throw new GuardError("BAD_ARGUMENT", `"${subnetId}" is not a subnet resource ID.`);
  }
  return { subscriptionId: id.subscriptionId, resourceGroup: id.resourceGroup, network: id.name, subnetName };
}

function subnetFacts(subnet: Subnet): SubnetFacts {
  return {
    prefixes: [...(subnet.addressPrefix ? [subnet.addressPrefix] : []), ...(subnet.addressPrefixes ?? [])],
    ...(subnet.routeTable?.id ? { routeTableId: subnet.routeTable.id } : {}),
  };
}

async function getSubnet(connection: ArmConnection, subnetId: string): Promise<SubnetFacts> {
  const { subscriptionId, resourceGroup, network, subnetName } = subnetParts(subnetId);
  return subnetFacts(
    await networkClient(connection, subscriptionId).subnets.get(resourceGroup, network, subnetName),
  );
}
