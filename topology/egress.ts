// Where each cluster's internet egress goes, read from the network (DESIGN §3): every agent pool's
// subnet → its route table → the default route → the Azure Firewall at that next hop → its firewall
// policy; or, with no route of its own, the Virtual WAN secured hub its network is connected to.
// Pure: azure/topology.ts reads the network, this decides what it means.
//
// Only 0.0.0.0/0 is followed. Azure picks a route by longest prefix match per destination, and the
// destinations the firewall rules are about (the catalog's FQDNs) are public addresses anywhere, so
// the route that decides for "the internet" is the default route. More specific routes (to a service
// tag or a public prefix, sometimes used to send one service around the firewall) carve exceptions
// for a few destinations and are not followed here. Routes learned by BGP (forced tunnelling from
// on-premises through a gateway) are not ARM resources and are not visible either.
import { virtualNetworkIdOf } from "../drift/cluster-profile";
import type {
  AzureFirewallFacts,
  ClusterEgress,
  ClusterRouting,
  EgressFinding,
  EgressInput,
  HubConnectionFacts,
  NetworkTopology,
  PoolEgress,
  RouteFacts,
  RouteTableFacts,
  VirtualHubFacts,
  VirtualNetworkFacts,
} from "./types";

export const DEFAULT_ROUTE_PREFIX = "0.0.0.0/0";

/** Finding codes of the mapping (OUTBOUND_NOT_UDR stays drift/cluster-profile's). */
export const EGRESS_FINDINGS = {
  bypass: "EGRESS_BYPASSES_FIREWALL",
  notAFirewall: "DEFAULT_ROUTE_NOT_A_FIREWALL",
  ambiguous: "DEFAULT_ROUTE_AMBIGUOUS",
  differentFirewalls: "POOLS_ROUTE_TO_DIFFERENT_FIREWALLS",
  policyNotInScope: "FIREWALL_POLICY_NOT_IN_SCOPE",
  firewallWithoutPolicy: "FIREWALL_WITHOUT_POLICY",
  routeTableNotRead: "ROUTE_TABLE_NOT_READ",
  hubRoutingNotRead: "HUB_ROUTING_NOT_READ",
} as const;

const key = (id: string) => id.trim().replace(/\/$/, "").toLowerCase();
const ipKey = (ip: string) => ip.trim().toLowerCase();

/** The last segment of an ID: what people call the resource. */
export function nameOf(id: string): string {
  return id.replace(/\/$/, "").split("/").at(-1) ?? id;
}

/** `…/virtualNetworks/v/subnets/s` → `…/virtualNetworks/v`. */
/** Lookups built once per topology: firewalls by private IP, hub connections by remote network. */
interface EgressIndex {
  topology: NetworkTopology;
  firewallsByIp: Map<string, AzureFirewallFacts[]>;
  hubByNetwork: Map<string, { hub: VirtualHubFacts; connection: HubConnectionFacts }>;
  virtualNetworks: Readonly<Record<string, VirtualNetworkFacts>>;
  policiesInScope: Set<string>;
}

function indexOf(input: EgressInput): EgressIndex {
  const firewallsByIp = new Map<string, AzureFirewallFacts[]>();
  for (const firewall of Object.values(input.topology.firewalls)) {
    const ips = [
      ...firewall.privateIpAddresses,
      ...(firewall.hubPrivateIpAddress ? [firewall.hubPrivateIpAddress] : []),
    ];
    for (const ip of new Set(ips.map(ipKey)))
      firewallsByIp.set(ip, [...(firewallsByIp.get(ip) ?? []), firewall]);
  }
  const hubByNetwork = new Map<string, { hub: VirtualHubFacts; connection: HubConnectionFacts }>();
  for (const hub of Object.values(input.topology.virtualHubs)) {
    for (const connection of hub.connections) {
      // A virtual network connects to one hub at most; the first one read stands.
      const network = key(connection.remoteVirtualNetworkId);
      if (!hubByNetwork.has(network)) hubByNetwork.set(network, { hub, connection });
    }
  }
  return {
    topology: input.topology,
    firewallsByIp,
    hubByNetwork,
    virtualNetworks: input.virtualNetworks ?? {},
    policiesInScope: new Set(input.policiesInScope.map(key)),
  };
}

/** Each cluster's egress path per pool, the policy its routes lead to, and what is wrong with them. */
export function deriveEgress(input: EgressInput): ClusterEgress[] {
  const index = indexOf(input);
  return input.clusters.map((cluster) => clusterEgress(cluster, input.subnets, index));
}

function clusterEgress(
  cluster: ClusterRouting,
  subnets: EgressInput["subnets"],
  index: EgressIndex,
): ClusterEgress {
  const pools = cluster.agentPools.map((pool) => poolEgress(pool, subnets, index));
  const findings: EgressFinding[] = [];
  // outboundType other than userDefinedRouting already has its finding (OUTBOUND_NOT_UDR), which says
  // the egress does not pass the firewall; the bypass would only repeat it.
  const udr =
    cluster.outboundType === undefined || cluster.outboundType.toLowerCase() === "userdefinedrouting";
  for (const pool of pools) {
    const finding = poolFinding(cluster, pool, index);
    if (finding !== undefined && (udr || finding.code !== EGRESS_FINDINGS.bypass)) findings.push(finding);
  }

  const policies = new Map<string, PoolEgress[]>();
  for (const pool of pools) {
    if (pool.outcome !== "firewall" || pool.firewallPolicyId === undefined) continue;
    const policy = key(pool.firewallPolicyId);
    policies.set(policy, [...(policies.get(policy) ?? []), pool]);
  }
  // Pools behind different firewalls that share one policy get the same rules: nothing to report.
  let routedPolicyId: string | undefined;
  if (policies.size === 1) {
    routedPolicyId = [...policies.values()][0]?.[0]?.firewallPolicyId;
  } else if (policies.size > 1) {
    const where = [...policies.values()]
      .flat()
      .map(
        (p) =>
          `pool ${p.pool} (subnet ${nameOf(p.subnetId ?? "")}${p.routeTableId ? `, route table ${nameOf(p.routeTableId)}` : ""}) → Azure Firewall ${nameOf(p.firewallId ?? "")} → policy ${nameOf(p.firewallPolicyId ?? "")}`,
      )
      .join("; ");
    findings.push({
      code: EGRESS_FINDINGS.differentFirewalls,
      severity: "warning",
      clusterId: cluster.id,
      message: `${cluster.name}: its pools route to firewalls with different policies (${where}); its rules would be needed in each, so no policy is derived from its routes.`,
    });
  }
  return {
    clusterId: cluster.id,
    clusterName: cluster.name,
    ...(cluster.outboundType !== undefined ? { outboundType: cluster.outboundType } : {}),
    pools,
    ...(routedPolicyId !== undefined ? { routedPolicyId } : {}),
    routedPolicyInScope: routedPolicyId !== undefined && index.policiesInScope.has(key(routedPolicyId)),
    findings,
  };
}

function poolEgress(
  pool: ClusterRouting["agentPools"][number],
  subnets: EgressInput["subnets"],
  index: EgressIndex,
): PoolEgress {
  const base = { pool: pool.name, subnetPrefixes: [] as string[] };
  if (pool.vnetSubnetId === undefined) {
    // POOL_WITHOUT_SUBNET (azure/clusters.ts) reports it: AKS's managed network has no route table of ours.
    return { ...base, outcome: "unknown", reason: "no subnet of its own (managed virtual network)" };
  }
  const subnetId = pool.vnetSubnetId;
  const subnet = subnets[key(subnetId)];
  if (subnet === undefined) {
    return { ...base, subnetId, outcome: "unknown", notRead: "subnet", reason: "subnet not read" };
  }
  const atSubnet: PoolEgress = {
    ...base,
    subnetId,
    subnetPrefixes: [...subnet.prefixes],
    outcome: "unknown",
  };
  if (subnet.routeTableId === undefined) {
    return viaHub(
      atSubnet,
      index,
      "the subnet has no route table, so Azure's system route sends it to the Internet",
    );
  }
  const table = index.topology.routeTables[key(subnet.routeTableId)];
  const withTable = { ...atSubnet, routeTableId: subnet.routeTableId };
  if (table === undefined) {
    return {
      ...withTable,
      notRead: "routeTable",
      reason: `route table ${nameOf(subnet.routeTableId)} not read`,
    };
  }
  const defaultRoute = table.routes.find((r) => r.addressPrefix.trim() === DEFAULT_ROUTE_PREFIX);
  if (defaultRoute === undefined) {
    const reason = `route table ${table.name} has no ${DEFAULT_ROUTE_PREFIX} route, so Azure's system route sends it to the Internet`;
    // A subnet that does not propagate gateway routes does not learn a hub's default route either.
    return table.disableBgpRoutePropagation
      ? { ...withTable, outcome: "bypass", reason }
      : viaHub(withTable, index, reason);
  }
  return viaDefaultRoute({ ...withTable, defaultRoute }, defaultRoute, table, index);
}

function viaDefaultRoute(
  path: PoolEgress,
  route: RouteFacts,
  table: RouteTableFacts,
  index: EgressIndex,
): PoolEgress {
  const hop = route.nextHopType.toLowerCase();
  if (hop === "internet") {
    return {
      ...path,
      outcome: "bypass",
      reason: `its ${DEFAULT_ROUTE_PREFIX} route in ${table.name} has next hop Internet`,
    };
  }
  if (hop !== "virtualappliance") {
    const what: Record<string, string> = {
      virtualnetworkgateway: "goes to the virtual network gateway (forced tunnelling on-premises)",
      vnetlocal: "stays in the virtual network (VnetLocal)",
      none: "is dropped (next hop None)",
    };
    return {
      ...path,
      outcome: "notAFirewall",
      reason: `internet traffic ${what[hop] ?? `has next hop ${route.nextHopType}`}`,
    };
  }
  const ip = route.nextHopIpAddress ?? "";
  const candidates = index.firewallsByIp.get(ipKey(ip)) ?? [];
  // Private IPs repeat across networks that are not peered: of several, the one reachable is meant.
  const reachableOnes =
    candidates.length > 1 ? reachable(candidates, path.subnetId ?? "", index) : candidates;
  const firewalls = reachableOnes.length >= 1 ? reachableOnes : candidates;
  if (firewalls.length === 0) {
    const read = index.topology.subscriptions.join(", ") || "none";
    const refused = index.topology.unread
      .filter((gap) => gap.what === "azureFirewalls")
      .map((gap) => `; the firewalls of ${gap.subscriptionId} could not be listed (${gap.status})`)
      .join("");
    return {
      ...path,
      outcome: "notAFirewall",
      reason: `no Azure Firewall in the subscriptions read (${read}) has the private IP ${ip}${refused}`,
    };
  }
  if (firewalls.length > 1) {
    return {
      ...path,
      outcome: "ambiguous",
      reason: `Azure Firewalls ${firewalls.map((f) => f.name).join(", ")} all have the private IP ${ip}`,
    };
  }
  return atFirewall(path, firewalls[0] as AzureFirewallFacts);
}

/** Of several firewalls sharing an IP, those the subnet's network can reach: its own, peered, its hub's. */
function reachable(
  firewalls: AzureFirewallFacts[],
  subnetId: string,
  index: EgressIndex,
): AzureFirewallFacts[] {
  const network = key(virtualNetworkIdOf(subnetId));
  const peered = new Set((index.virtualNetworks[network]?.peeredNetworkIds ?? []).map(key));
  const hub = index.hubByNetwork.get(network)?.hub;
  return firewalls.filter((f) => {
    if (f.virtualNetworkId !== undefined) {
      const own = key(f.virtualNetworkId);
      return own === network || peered.has(own);
    }
    return hub !== undefined && f.virtualHubId !== undefined && key(f.virtualHubId) === key(hub.id);
  });
}

function atFirewall(path: PoolEgress, firewall: AzureFirewallFacts): PoolEgress {
  const at = { ...path, firewallId: firewall.id };
  if (firewall.firewallPolicyId === undefined) {
    return {
      ...at,
      outcome: "firewallWithoutPolicy",
      reason: `Azure Firewall ${firewall.name} has no firewall policy`,
    };
  }
  return { ...at, firewallPolicyId: firewall.firewallPolicyId, outcome: "firewall" };
}

/**
 * No user-defined default route: the network's Virtual WAN hub decides, when the network is connected
 * to one whose routing intent sends Internet traffic to a firewall. Otherwise `orElse` stands.
 */
function viaHub(path: PoolEgress, index: EgressIndex, orElse: string): PoolEgress {
  const network = key(virtualNetworkIdOf(path.subnetId ?? ""));
  const connected = index.hubByNetwork.get(network);
  if (connected === undefined) return { ...path, outcome: "bypass", reason: orElse };
  const { hub, connection } = connected;
  const securedHub = { hubId: hub.id, connectionId: connection.id };
  if (connection.enableInternetSecurity === false) {
    return {
      ...path,
      outcome: "bypass",
      reason: `its network's connection ${connection.name} to virtual hub ${hub.name} does not propagate the hub's default route (enableInternetSecurity false); ${orElse}`,
    };
  }
  const policy = hub.routingPolicies.find((p) => p.destinations.some((d) => d.toLowerCase() === "internet"));
  if (policy === undefined) {
    return {
      ...path,
      securedHub,
      outcome: "unknown",
      notRead: "hubRouting",
      reason: `virtual hub ${hub.name} has no routing intent for Internet traffic (its hub route tables are not read)`,
    };
  }
  const routed = { ...path, securedHub: { ...securedHub, routingPolicy: policy.name } };
  const firewall = index.topology.firewalls[key(policy.nextHop)];
  if (firewall === undefined) {
    return {
      ...routed,
      outcome: "notAFirewall",
      reason: `virtual hub ${hub.name} sends Internet traffic to ${nameOf(policy.nextHop)}, which is no Azure Firewall read`,
    };
  }
  return atFirewall(routed, firewall);
}

/** Why a route table is missing from the topology, from what was read and what was refused. */
function whyNotRead(routeTableId: string, topology: NetworkTopology): string {
  const subscription = routeTableId.split("/")[2]?.toLowerCase() ?? "";
  if (!topology.subscriptions.includes(subscription))
    return `its subscription ${subscription} is not in scope`;
  const gap = topology.unread.find((g) => g.subscriptionId === subscription && g.what === "routeTables");
  if (gap !== undefined) return `the route tables of ${subscription} could not be listed (${gap.status})`;
  return "its subscription's list does not show it: deleted, or newer than the list";
}

/** The finding a pool's path calls for, naming cluster, pool, subnet and route table. */
function poolFinding(
  cluster: ClusterRouting,
  pool: PoolEgress,
  index: EgressIndex,
): EgressFinding | undefined {
  const where = [
    `subnet ${nameOf(pool.subnetId ?? "")}`,
    pool.routeTableId ? `route table ${nameOf(pool.routeTableId)}` : "no route table",
    ...(pool.securedHub ? [`virtual hub ${nameOf(pool.securedHub.hubId)}`] : []),
  ].join(", ");
  const finding = (code: string, message: string): EgressFinding => ({
    code,
    severity: "warning",
    clusterId: cluster.id,
    message: `${cluster.name}: pool ${pool.pool} (${where}) ${message}`,
    location: [
      pool.pool,
      nameOf(pool.subnetId ?? ""),
      ...(pool.routeTableId ? [nameOf(pool.routeTableId)] : []),
    ].join("/"),
    pool: pool.pool,
    ...(pool.subnetId ? { subnetId: pool.subnetId } : {}),
    ...(pool.routeTableId ? { routeTableId: pool.routeTableId } : {}),
    ...(pool.firewallId ? { firewallId: pool.firewallId } : {}),
    ...(pool.firewallPolicyId ? { firewallPolicyId: pool.firewallPolicyId } : {}),
  });
  switch (pool.outcome) {
    case "bypass":
      return finding(EGRESS_FINDINGS.bypass, `sends internet traffic around the firewall: ${pool.reason}.`);
    case "notAFirewall":
      return finding(
        EGRESS_FINDINGS.notAFirewall,
        `does not send internet traffic to a known Azure Firewall: ${pool.reason}.`,
      );
    case "ambiguous":
      return finding(
        EGRESS_FINDINGS.ambiguous,
        `has a default route that could mean more than one firewall: ${pool.reason}.`,
      );
    case "firewallWithoutPolicy":
      return finding(
        EGRESS_FINDINGS.firewallWithoutPolicy,
        `routes to Azure Firewall ${nameOf(pool.firewallId ?? "")}, which has no firewall policy (classic rules): there is no policy to keep its rules in.`,
      );
    case "firewall":
      if (index.policiesInScope.has(key(pool.firewallPolicyId ?? ""))) return undefined;
      return finding(
        EGRESS_FINDINGS.policyNotInScope,
        `routes to Azure Firewall ${nameOf(pool.firewallId ?? "")}, whose policy ${nameOf(pool.firewallPolicyId ?? "")} is not one this deployment manages (${pool.firewallPolicyId}).`,
      );
    case "unknown":
      if (pool.notRead === "routeTable" && pool.routeTableId !== undefined) {
        return finding(
          EGRESS_FINDINGS.routeTableNotRead,
          `uses route table ${pool.routeTableId}, which was not read (${whyNotRead(pool.routeTableId, index.topology)}): where its egress goes is not known.`,
        );
      }
      if (pool.notRead === "hubRouting") {
        return finding(
          EGRESS_FINDINGS.hubRoutingNotRead,
          `egresses through a virtual hub whose routing is not known: ${pool.reason}.`,
        );
      }
      return undefined;
  }
}
