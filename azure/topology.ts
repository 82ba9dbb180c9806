// Reads where egress can go, in bulk, and narrows it to plain facts (topology/types.ts): per
// subscription one list each of route tables, Azure Firewalls and virtual hubs, then, for each hub
// with an Azure Firewall, its virtual network connections and its routing intent. The reads grow with
// subscriptions and secured hubs, never with clusters. It decides nothing: topology/egress.ts does.
import type {
  AzureFirewall,
  HubVirtualNetworkConnection,
  RouteTable,
  RoutingIntent,
  VirtualHub,
  VirtualNetwork,
} from "@azure/arm-network";
import type {
  AzureFirewallFacts,
  NetworkTopology,
  RouteTableFacts,
  TopologyGap,
  VirtualHubFacts,
  VirtualNetworkFacts,
} from "../topology";
import { type ArmConnection, networkClient } from "./clients";
import { parseResourceId } from "./resource-id";
import { isRestError } from "./sdk";

const key = (id: string) => id.replace(/\/$/, "").toLowerCase();

export function routeTableFacts(table: RouteTable): RouteTableFacts {
  const id = table.id ?? "";
  return {
    id,
    name: table.name ?? id.split("/").at(-1) ?? "",
    routes: (table.routes ?? []).map((route) => ({
      name: route.name ?? "",
      addressPrefix: route.addressPrefix ?? "",
      nextHopType: route.nextHopType ?? "",
      ...(route.nextHopIpAddress ? { nextHopIpAddress: route.nextHopIpAddress } : {}),
    })),
    disableBgpRoutePropagation: table.disableBgpRoutePropagation === true,
  };
}

export function firewallFacts(firewall: AzureFirewall): AzureFirewallFacts {
  const id = firewall.id ?? "";
  // The management IP configuration is left out: traffic is never routed to it.
  const configurations = firewall.ipConfigurations ?? [];
  const subnetId = configurations.find((c) => c.subnet?.id)?.subnet?.id;
  return {
    id,
    name: firewall.name ?? id.split("/").at(-1) ?? "",
    privateIpAddresses: configurations.flatMap((c) => (c.privateIPAddress ? [c.privateIPAddress] : [])),
    ...(firewall.hubIPAddresses?.privateIPAddress
      ? { hubPrivateIpAddress: firewall.hubIPAddresses.privateIPAddress }
      : {}),
    ...(firewall.firewallPolicy?.id ? { firewallPolicyId: firewall.firewallPolicy.id } : {}),
    ...(firewall.virtualHub?.id ? { virtualHubId: firewall.virtualHub.id } : {}),
    ...(subnetId ? { virtualNetworkId: subnetId.replace(/\/subnets\/[^/]+\/?$/i, "") } : {}),
  };
}

/** A hub, with its connections and routing intent when they were read (`followed`). */
export function virtualHubFacts(
  hub: VirtualHub,
  children?: { connections: HubVirtualNetworkConnection[]; routingIntents: RoutingIntent[] },
): VirtualHubFacts {
  const id = hub.id ?? "";
  return {
    id,
    name: hub.name ?? id.split("/").at(-1) ?? "",
    ...(hub.azureFirewall?.id ? { azureFirewallId: hub.azureFirewall.id } : {}),
    followed: children !== undefined,
    connections: (children?.connections ?? []).flatMap((c) =>
      c.remoteVirtualNetwork?.id
        ? [
            {
              id: c.id ?? "",
              name: c.name ?? "",
              remoteVirtualNetworkId: c.remoteVirtualNetwork.id,
              ...(c.enableInternetSecurity !== undefined
                ? { enableInternetSecurity: c.enableInternetSecurity }
                : {}),
            },
          ]
        : [],
    ),
    routingPolicies: (children?.routingIntents ?? []).flatMap((intent) =>
      (intent.routingPolicies ?? []).map((p) => ({
        name: p.name,
        destinations: [...p.destinations],
        nextHop: p.nextHop,
      })),
    ),
  };
}

/**
 * A virtual network's DNS servers, address space and connected peerings. Not read here: the node
 * subnets already come from one virtual-network list per subscription (azure/clusters.ts), and this
 * narrows the same list entries, so the integration can keep both from one read.
 */
export function virtualNetworkFacts(network: VirtualNetwork): VirtualNetworkFacts {
  return {
    id: network.id ?? "",
    addressPrefixes: [...(network.addressSpace?.addressPrefixes ?? [])],
    dnsServers: [...(network.dhcpOptions?.dnsServers ?? [])],
    peeredNetworkIds: (network.virtualNetworkPeerings ?? []).flatMap((p) =>
      p.remoteVirtualNetwork?.id && (p.peeringState === undefined || p.peeringState === "Connected")
        ? [p.remoteVirtualNetwork.id]
        : [],
    ),
  };
}

/** Every item of a paged list; a list ARM refuses (403) or does not know (404) is a gap, not an error. */
async function collect<T>(
  gaps: TopologyGap[],
  gap: Omit<TopologyGap, "status">,
  list: () => AsyncIterable<T>,
): Promise<T[]> {
  const items: T[] = [];
  try {
    for await (const item of list()) items.push(item);
  } catch (error) {
    if (!(isRestError(error) && (error.statusCode === 403 || error.statusCode === 404))) throw error;
    gaps.push({ ...gap, status: error.statusCode });
    return [];
  }
  return items;
}

async function readSubscription(connection: ArmConnection, subscriptionId: string, gaps: TopologyGap[]) {
  const client = networkClient(connection, subscriptionId);
  const [routeTables, firewalls, hubs] = await Promise.all([
    collect(gaps, { subscriptionId, what: "routeTables" }, () => client.routeTables.listAll()),
    collect(gaps, { subscriptionId, what: "azureFirewalls" }, () => client.azureFirewalls.listAll()),
    collect(gaps, { subscriptionId, what: "virtualHubs" }, () => client.virtualHubs.list()),
  ]);
  const followed = await Promise.all(
    hubs.map(async (hub) => {
      // A hub without an Azure Firewall cannot lead a spoke's traffic to one: not followed.
      if (!hub.azureFirewall?.id || !hub.id) return virtualHubFacts(hub);
      const id = parseResourceId(hub.id);
      const name = hub.name ?? id.name;
      const [connections, routingIntents] = await Promise.all([
        collect(gaps, { subscriptionId, what: `hubVirtualNetworkConnections of ${name}` }, () =>
          client.hubVirtualNetworkConnections.list(id.resourceGroup, id.name),
        ),
        collect(gaps, { subscriptionId, what: `routingIntent of ${name}` }, () =>
          client.routingIntentOperations.list(id.resourceGroup, id.name),
        ),
      ]);
      return virtualHubFacts(hub, { connections, routingIntents });
    }),
  );
  return {
    routeTables: routeTables.map(routeTableFacts),
    firewalls: firewalls.map(firewallFacts),
    hubs: followed,
  };
}

/**
 * The route tables, Azure Firewalls and virtual hubs of these subscriptions (the hub subscriptions
 * too: hub networks and their firewalls are often in a subscription of their own). Read once per
 * pass: the subscriptions are read side by side, each list paged to its end.
 */
export async function readNetworkTopology(
  connection: ArmConnection,
  subscriptions: Iterable<string>,
): Promise<NetworkTopology> {
  const wanted = [...new Set([...subscriptions].map((s) => s.trim().toLowerCase()))].filter((s) => s !== "");
  const gaps: TopologyGap[] = [];
  const read = await Promise.all(wanted.map((s) => readSubscription(connection, s, gaps)));
  const topology: NetworkTopology = {
    subscriptions: wanted,
    routeTables: {},
    firewalls: {},
    virtualHubs: {},
    unread: [],
  };
  for (const part of read) {
    for (const table of part.routeTables) topology.routeTables[key(table.id)] = table;
    for (const firewall of part.firewalls) topology.firewalls[key(firewall.id)] = firewall;
    for (const hub of part.hubs) topology.virtualHubs[key(hub.id)] = hub;
  }
  // Gaps in a stable order, whatever order the parallel reads failed in.
  topology.unread = gaps.sort((a, b) =>
    `${a.subscriptionId} ${a.what}`.localeCompare(`${b.subscriptionId} ${b.what}`),
  );
  return topology;
}
