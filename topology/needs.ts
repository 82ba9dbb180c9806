// Which parts of the network a pass must list, from what it already knows (issue 13: reads in bulk,
// and only those that can change an answer). Pure: azure/topology.ts lists what these say.
//   - route tables: in the subscriptions the node subnets' route tables live in;
//   - virtual hubs: when a pool has no default route of its own (no route table, or a table without
//     0.0.0.0/0 that propagates gateway routes): only then can a Virtual WAN hub decide its egress;
//   - Azure Firewalls: when a default route goes to a virtual appliance, or a hub's routing intent
//     sends Internet traffic somewhere.
import { DEFAULT_ROUTE_PREFIX } from "./egress";
import type { ClusterRouting, RouteTableFacts, SubnetRouting, VirtualHubFacts } from "./types";

const key = (id: string) => id.trim().replace(/\/$/, "").toLowerCase();

function subnetsOf(
  clusters: readonly ClusterRouting[],
  subnets: Readonly<Record<string, SubnetRouting>>,
): SubnetRouting[] {
  return clusters.flatMap((c) =>
    c.agentPools.flatMap((p) => {
      const subnet = p.vnetSubnetId === undefined ? undefined : subnets[key(p.vnetSubnetId)];
      return subnet === undefined ? [] : [subnet];
    }),
  );
}

/** The subscriptions (lower-cased) of the route tables the pools' subnets use. */
export function routeTableSubscriptions(
  clusters: readonly ClusterRouting[],
  subnets: Readonly<Record<string, SubnetRouting>>,
): string[] {
  const subscriptions = new Set<string>();
  for (const subnet of subnetsOf(clusters, subnets)) {
    const subscription = subnet.routeTableId?.split("/")[2]?.toLowerCase();
    if (subscription) subscriptions.add(subscription);
  }
  return [...subscriptions].sort();
}

const defaultRoute = (table: RouteTableFacts) =>
  table.routes.find((r) => r.addressPrefix.trim() === DEFAULT_ROUTE_PREFIX);

/** Whether a Virtual WAN hub could decide some pool's egress (it has no default route of its own). */
export function needsVirtualHubs(
  clusters: readonly ClusterRouting[],
  subnets: Readonly<Record<string, SubnetRouting>>,
  routeTables: Readonly<Record<string, RouteTableFacts>>,
): boolean {
  return subnetsOf(clusters, subnets).some((subnet) => {
    if (subnet.routeTableId === undefined) return true;
    const table = routeTables[key(subnet.routeTableId)];
    return table !== undefined && defaultRoute(table) === undefined && !table.disableBgpRoutePropagation;
  });
}

/**
 * Whether a pool's default route, or a hub's routing intent, points at something that may be an
 * Azure Firewall.
 */
export function needsFirewalls(
  clusters: readonly ClusterRouting[],
  subnets: Readonly<Record<string, SubnetRouting>>,
  routeTables: Readonly<Record<string, RouteTableFacts>>,
  virtualHubs: Readonly<Record<string, VirtualHubFacts>>,
): boolean {
  const toAppliance = subnetsOf(clusters, subnets).some((subnet) => {
    const table = subnet.routeTableId === undefined ? undefined : routeTables[key(subnet.routeTableId)];
    return (
      table !== undefined && defaultRoute(table)?.nextHopType.trim().toLowerCase() === "virtualappliance"
    );
  });
  return toAppliance || Object.values(virtualHubs).some((h) => h.routingPolicies.length > 0);
}
