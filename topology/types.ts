// The network as the egress mapping sees it: plain JSON (no SDK types, no Maps), so it can cross a
// durable activity boundary as it is. azure/topology.ts reads it; topology/egress.ts derives from it.
import type { Finding } from "../drift/types";

/** One user-defined route. */
export interface RouteFacts {
  name: string;
  /** A CIDR, or a service tag such as `AzureCloud` (routes may name those too). */
  addressPrefix: string;
  /** `VirtualAppliance`, `Internet`, `VirtualNetworkGateway`, `VnetLocal` or `None`, as ARM gives it. */
  nextHopType: string;
  /** Only for `VirtualAppliance`. */
  nextHopIpAddress?: string;
}

export interface RouteTableFacts {
  id: string;
  name: string;
  routes: RouteFacts[];
  /** "Propagate gateway routes: No": the subnet does not learn routes from gateways or a virtual hub. */
  disableBgpRoutePropagation: boolean;
}

export interface AzureFirewallFacts {
  id: string;
  name: string;
  /** `ipConfigurations[].privateIPAddress`: a firewall in a virtual network. */
  privateIpAddresses: string[];
  /** `hubIPAddresses.privateIPAddress`: a firewall in a Virtual WAN secured hub. */
  hubPrivateIpAddress?: string;
  firewallPolicyId?: string;
  virtualHubId?: string;
  /** The network of its AzureFirewallSubnet (from an IP configuration's subnet). */
  virtualNetworkId?: string;
}

/** A routing intent's policy: `destinations` `Internet` and/or `PrivateTraffic`, sent to `nextHop`. */
export interface RoutingPolicyFacts {
  name: string;
  destinations: string[];
  /** A resource ID: the hub's Azure Firewall, or an NVA / SaaS solution in the hub. */
  nextHop: string;
}

export interface HubConnectionFacts {
  id: string;
  name: string;
  remoteVirtualNetworkId: string;
  /** "Propagate default route": false means the network does not learn the hub's 0.0.0.0/0. */
  enableInternetSecurity?: boolean;
}

export interface VirtualHubFacts {
  id: string;
  name: string;
  azureFirewallId?: string;
  /**
   * Whether its connections and routing intent were read: only for hubs with an Azure Firewall (a
   * hub without one cannot send a spoke's traffic to an Azure Firewall).
   */
  followed: boolean;
  connections: HubConnectionFacts[];
  routingPolicies: RoutingPolicyFacts[];
}

/** A list or read ARM refused (403) or did not know (404): what the maps are missing. */
export interface TopologyGap {
  subscriptionId: string;
  /** What could not be read, e.g. `azureFirewalls`, or `hubVirtualNetworkConnections of vhub-weu`. */
  what: string;
  status: number;
}

/** Route tables, Azure Firewalls and virtual hubs of the subscriptions read, by lower-cased ID. */
export interface NetworkTopology {
  /** The subscriptions listed, lower-cased. */
  subscriptions: string[];
  routeTables: Record<string, RouteTableFacts>;
  firewalls: Record<string, AzureFirewallFacts>;
  virtualHubs: Record<string, VirtualHubFacts>;
  unread: TopologyGap[];
}

/** A virtual network as the mapping may use it (from the same VNet list the node subnets come from). */
export interface VirtualNetworkFacts {
  id: string;
  addressPrefixes: string[];
  /** `dhcpOptions.dnsServers`: custom DNS servers (empty: Azure-provided DNS). */
  dnsServers: string[];
  /** Networks peered with it whose peering is `Connected`. */
  peeredNetworkIds: string[];
}

/** A node subnet (structurally azure/clusters.ts's SubnetFacts). */
export interface SubnetRouting {
  prefixes: string[];
  routeTableId?: string;
}

/** The parts of a cluster that matter here (drift's ClusterFacts fits). */
export interface ClusterRouting {
  id: string;
  name: string;
  outboundType?: string;
  agentPools: { name: string; vnetSubnetId?: string }[];
}

export interface EgressInput {
  clusters: readonly ClusterRouting[];
  /** Node subnets by lower-cased ID; a pool whose subnet is missing here was not read. */
  subnets: Readonly<Record<string, SubnetRouting>>;
  topology: NetworkTopology;
  /** Firewall policy IDs the deployment manages. */
  policiesInScope: readonly string[];
  /** Optional: tells apart firewalls that share a private IP (by peering and same network). */
  virtualNetworks?: Readonly<Record<string, VirtualNetworkFacts>>;
}

/**
 * Where one pool's internet egress ends:
 * `firewall` an Azure Firewall with a policy; `firewallWithoutPolicy` one without (classic rules);
 * `bypass` the Internet directly; `notAFirewall` some next hop that is no known Azure Firewall;
 * `ambiguous` more than one firewall could be meant; `unknown` something on the way was not read.
 */
export type EgressOutcome =
  | "firewall"
  | "firewallWithoutPolicy"
  | "bypass"
  | "notAFirewall"
  | "ambiguous"
  | "unknown";

export interface PoolEgress {
  pool: string;
  subnetId?: string;
  subnetPrefixes: string[];
  routeTableId?: string;
  /** The subnet's 0.0.0.0/0 user-defined route, when it has one. */
  defaultRoute?: RouteFacts;
  /** A Virtual WAN secured hub whose routing intent carries the network's Internet traffic. */
  securedHub?: { hubId: string; connectionId: string; routingPolicy?: string };
  firewallId?: string;
  firewallPolicyId?: string;
  outcome: EgressOutcome;
  /** With `unknown`: the step that could not be read. */
  notRead?: "subnet" | "routeTable" | "hubRouting";
  /** The last step in words, when the path does not end at a firewall policy. */
  reason?: string;
}

export interface EgressFinding extends Finding {
  clusterId: string;
  pool?: string;
  subnetId?: string;
  routeTableId?: string;
  firewallId?: string;
  firewallPolicyId?: string;
}

export interface ClusterEgress {
  clusterId: string;
  clusterName: string;
  outboundType?: string;
  pools: PoolEgress[];
  /**
   * The policy of the firewall(s) the pools' routes lead to, when every pool that reaches a firewall
   * policy reaches the same one (pools that bypass do not veto it; they have findings of their own).
   */
  routedPolicyId?: string;
  /** Whether `routedPolicyId` is one of the policies in scope. */
  routedPolicyInScope: boolean;
  findings: EgressFinding[];
}
