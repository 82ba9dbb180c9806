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
import { virtualNetworkIdOf } from "../drift/cluster-profile";
import type {
  AzureFirewallFacts,
  HubConnectionFacts,
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
    ...(subnetId ? { virtualNetworkId: virtualNetworkIdOf(subnetId) } : {}),
  };
}

/** A hub's connection to a virtual network; undefined when it names no network. */
export function hubConnectionFacts(c: HubVirtualNetworkConnection): HubConnectionFacts | undefined {
  if (!c.remoteVirtualNetwork?.id) return undefined;
  return {
    id: c.id ?? "",
    name: c.name ?? "",
    remoteVirtualNetworkId: c.remoteVirtualNetwork.id,
    ...(c.enableInternetSecurity !== undefined ? { enableInternetSecurity: c.enableInternetSecurity } : {}),
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
    connections: (children?.connections ?? []).flatMap((c) => {
      const facts = hubConnectionFacts(c);
      return facts ? [facts] : [];
    }),
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

type Client = ReturnType<typeof networkClient>;

/** A hub, followed to its connections and routing intent when it has an Azure Firewall. */
async function followHub(
  client: Client,
  subscriptionId: string,
  hub: VirtualHub,
  gaps: TopologyGap[],
): Promise<VirtualHubFacts> {
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
}

const listRouteTables = async (connection: ArmConnection, subscriptionId: string, gaps: TopologyGap[]) =>
  (
    await collect(gaps, { subscriptionId, what: "routeTables" }, () =>
      networkClient(connection, subscriptionId).routeTables.listAll(),
    )
  ).map(routeTableFacts);

const listFirewalls = async (connection: ArmConnection, subscriptionId: string, gaps: TopologyGap[]) =>
  (
    await collect(gaps, { subscriptionId, what: "azureFirewalls" }, () =>
      networkClient(connection, subscriptionId).azureFirewalls.listAll(),
    )
  ).map(firewallFacts);

async function listHubs(connection: ArmConnection, subscriptionId: string, gaps: TopologyGap[]) {
  const client = networkClient(connection, subscriptionId);
  const hubs = await collect(gaps, { subscriptionId, what: "virtualHubs" }, () => client.virtualHubs.list());
  return Promise.all(hubs.map((hub) => followHub(client, subscriptionId, hub, gaps)));
}

/**
 * What a pass lists, decided from what it has read so far (topology/needs.ts): route tables in these
 * subscriptions; then hubs and firewalls (in every subscription read) when `hubs` / `firewalls` say
 * they can change an answer. Without needs, everything is listed.
 */
export interface TopologyNeeds {
  routeTableSubscriptions: Iterable<string>;
  hubs(routeTables: NetworkTopology["routeTables"]): boolean;
  firewalls(routeTables: NetworkTopology["routeTables"], hubs: NetworkTopology["virtualHubs"]): boolean;
}

/**
 * The route tables, Azure Firewalls and virtual hubs of these subscriptions (the hub subscriptions
 * too: hub networks and their firewalls are often in a subscription of their own). Read once per
 * pass: the subscriptions are read side by side, each list paged to its end. With `needs`, a list
 * that cannot change an answer is not read (route tables first, then hubs and firewalls).
 */
export async function readNetworkTopology(
  connection: ArmConnection,
  subscriptions: Iterable<string>,
  needs?: TopologyNeeds,
): Promise<NetworkTopology> {
  const wanted = [...new Set([...subscriptions].map((s) => s.trim().toLowerCase()))].filter((s) => s !== "");
  const gaps: TopologyGap[] = [];
  const topology: NetworkTopology = {
    subscriptions: wanted,
    routeTables: {},
    firewalls: {},
    virtualHubs: {},
    unread: [],
  };
  const tableSubscriptions =
    needs === undefined
      ? wanted
      : [...new Set([...needs.routeTableSubscriptions].map((s) => s.toLowerCase()))].filter((s) =>
          wanted.includes(s),
        );
  const all = <T>(subs: string[], read: (s: string) => Promise<T[]>) =>
    Promise.all(subs.map(read)).then((parts) => parts.flat());
  const firewallsOf = () => all(wanted, (s) => listFirewalls(connection, s, gaps));
  const hubsOf = () => all(wanted, (s) => listHubs(connection, s, gaps));
  const keep = (
    tables: RouteTableFacts[] = [],
    firewalls: AzureFirewallFacts[] = [],
    hubs: VirtualHubFacts[] = [],
  ) => {
    for (const table of tables) topology.routeTables[key(table.id)] = table;
    for (const firewall of firewalls) topology.firewalls[key(firewall.id)] = firewall;
    for (const hub of hubs) topology.virtualHubs[key(hub.id)] = hub;
  };
  if (needs === undefined) {
    const [tables, firewalls, hubs] = await Promise.all([
      all(wanted, (s) => listRouteTables(connection, s, gaps)),
      firewallsOf(),
      hubsOf(),
    ]);
    keep(tables, firewalls, hubs);
  } else {
    keep(await all(tableSubscriptions, (s) => listRouteTables(connection, s, gaps)));
    const hubs = needs.hubs(topology.routeTables);
    // Firewalls side by side with hubs when the route tables alone call for them.
    const early = needs.firewalls(topology.routeTables, {});
    const [firewalls, hubList] = await Promise.all([
      early ? firewallsOf() : Promise.resolve(undefined),
      hubs ? hubsOf() : Promise.resolve([]),
    ]);
    keep([], firewalls, hubList);
    if (firewalls === undefined && needs.firewalls(topology.routeTables, topology.virtualHubs))
      keep([], await firewallsOf());
  }
  // Gaps in a stable order, whatever order the parallel reads failed in.
  topology.unread = gaps.sort((a, b) =>
    `${a.subscriptionId} ${a.what}`.localeCompare(`${b.subscriptionId} ${b.what}`),
  );
  return topology;
}
