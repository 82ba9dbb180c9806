// Read-only network resources: where a cluster's egress goes (route tables, Azure Firewalls, Virtual
// WAN hubs with their connections and routing intent) and the virtual networks around it (subnets,
// peerings, custom DNS servers). Served as ARM sends them; nothing here is written through ARM.
import { createHash } from "node:crypto";
import type { EmulatorCore, Handler } from "./core";
import { asObject, asString, cloneJson } from "./json";
import {
  FIREWALL_ID,
  HUB_CONNECTION_ID,
  HUB_ID,
  keyFrom,
  PEERING_ID,
  ROUTE_TABLE_ID,
  ROUTING_INTENT_ID,
  resourceKey,
  VNET_ID,
} from "./paths";
import {
  childNotFound,
  getStored,
  idFrom,
  listIn,
  listReply,
  missingResourceGroup,
  resourceNotFound,
  stored,
  storedChildren,
} from "./reads";
import { ok } from "./replies";
import { parentIdOf, propertiesOf } from "./store";
import type { ArmResource, JsonValue } from "./types";

// Route tables. ARM lists the subnets a table is associated with (`properties.subnets`, read-only):
// the emulator derives them from the subnets' own `routeTable`, so the two never disagree.

/** Route table key → the subnets associated with it, from one pass over the subnets. */
function subnetsByRouteTable(core: EmulatorCore): Map<string, { id: string }[]> {
  const byTable = new Map<string, { id: string }[]>();
  for (const subnet of core.store.list("subnets", "/")) {
    const id = asString(asObject(asObject(subnet.properties)?.routeTable)?.id);
    if (id === undefined) continue;
    const key = resourceKey(id);
    byTable.set(key, [...(byTable.get(key) ?? []), { id: subnet.id }]);
  }
  return byTable;
}

function withSubnets(table: ArmResource, byTable: Map<string, { id: string }[]>): ArmResource {
  const subnets = byTable.get(resourceKey(table.id)) ?? [];
  const properties = propertiesOf(table);
  if (subnets.length > 0) properties.subnets = subnets;
  else delete properties.subnets;
  return table;
}

const routeTablesUnder = (core: EmulatorCore, prefix: string) => {
  const byTable = subnetsByRouteTable(core);
  return core.store.list("routeTables", prefix).map((table) => withSubnets(cloneJson(table), byTable));
};

export const listRouteTables = listIn(routeTablesUnder, "/providers/microsoft.network/routetables");
export const getRouteTable = getStored("routeTables", ROUTE_TABLE_ID, "routeTable", (core, table) =>
  withSubnets(table, subnetsByRouteTable(core)),
);

export const listFirewalls = listIn(stored("azureFirewalls"), "/providers/microsoft.network/azurefirewalls");
export const getFirewall = getStored("azureFirewalls", FIREWALL_ID, "firewall");

export const listVirtualHubs = listIn(stored("virtualHubs"), "/providers/microsoft.network/virtualhubs");
export const getVirtualHub = getStored("virtualHubs", HUB_ID, "hub");

const HUB = { kind: "virtualHubs", pattern: HUB_ID, nameParam: "hub" } as const;
export const hubConnections = storedChildren(
  HUB,
  "hubVirtualNetworkConnections",
  HUB_CONNECTION_ID,
  "hubVirtualNetworkConnections",
);
export const routingIntents = storedChildren(HUB, "routingIntents", ROUTING_INTENT_ID, "routingIntent");

// Virtual networks. A network is what the estate holds about it: its own body (address space, custom
// DNS servers in `dhcpOptions`, location, tags), if one was seeded, and its subnets and peerings, which
// are resources of their own embedded here exactly as their own GET returns them. Without a body the
// address space is the subnets' prefixes; what the estate does not say (location, DNS servers) is left
// out rather than made up. The etag changes whenever the network or one of its children does. A
// network exists if it has a body, a subnet or a peering.

/** A GUID-shaped digest: stable for the same input, as ARM's etags and resource GUIDs look. */
function guidOf(text: string): string {
  const hex = createHash("sha256").update(text).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function prefixesOf(subnet: ArmResource): string[] {
  const properties = asObject(subnet.properties);
  const one = asString(properties?.addressPrefix);
  const many = properties?.addressPrefixes;
  return [
    ...(one ? [one] : []),
    ...(Array.isArray(many) ? many.flatMap((p) => (typeof p === "string" ? [p] : [])) : []),
  ];
}

interface NetworkParts {
  id: string;
  body?: ArmResource;
  subnets: ArmResource[];
  peerings: ArmResource[];
}

/** The network as ARM would send it, from its body (if any) and its children as stored. */
function assembleNetwork({ id: fallbackId, body, subnets, peerings }: NetworkParts): ArmResource {
  const { properties: bodyProperties, ...rest } = cloneJson(body ?? { id: fallbackId });
  const own = asObject(bodyProperties) ?? {};
  const id = rest.id;
  const properties = {
    provisioningState: "Succeeded",
    resourceGuid: guidOf(resourceKey(id)),
    addressSpace: own.addressSpace ?? { addressPrefixes: [...new Set(subnets.flatMap(prefixesOf))] },
    enableDdosProtection: false,
    ...own,
    subnets: subnets.map((s) => cloneJson(s)) as JsonValue[],
    virtualNetworkPeerings: peerings.map((p) => cloneJson(p)) as JsonValue[],
  };
  return {
    ...rest,
    id,
    name: asString(rest.name) ?? id.split("/").at(-1) ?? id,
    type: "Microsoft.Network/virtualNetworks",
    etag: `W/"${guidOf(JSON.stringify(properties))}"`,
    properties,
  };
}

/**
 * The networks with anything under `prefixKey` (one pass over each store, as a subscription may hold
 * thousands): those with a body first, then those known by their children only.
 */
function virtualNetworksUnder(core: EmulatorCore, prefixKey: string): ArmResource[] {
  const networks = new Map<string, NetworkParts>();
  const partsOf = (id: string): NetworkParts => {
    const key = resourceKey(id);
    let parts = networks.get(key);
    if (parts === undefined) {
      parts = { id, subnets: [], peerings: [] };
      networks.set(key, parts);
    }
    return parts;
  };
  for (const body of core.store.list("virtualNetworks", prefixKey)) partsOf(body.id).body = body;
  for (const subnet of core.store.list("subnets", prefixKey))
    partsOf(parentIdOf(subnet.id)).subnets.push(subnet);
  for (const peering of core.store.list("virtualNetworkPeerings", prefixKey)) {
    partsOf(parentIdOf(peering.id)).peerings.push(peering);
  }
  return [...networks.values()].map(assembleNetwork);
}

/** One network by its key; undefined when the estate holds nothing of it. */
function networkAt(core: EmulatorCore, key: string): ArmResource | undefined {
  const body = core.store.get("virtualNetworks", key);
  const subnets = core.store.list("subnets", `${key}/subnets/`);
  const peerings = core.store.list("virtualNetworkPeerings", `${key}/virtualnetworkpeerings/`);
  const child = subnets[0] ?? peerings[0];
  const id = body?.id ?? (child ? parentIdOf(child.id) : undefined);
  if (id === undefined) return undefined;
  return assembleNetwork({ id, ...(body ? { body } : {}), subnets, peerings });
}

export const listVirtualNetworks = listIn(
  virtualNetworksUnder,
  "/providers/microsoft.network/virtualnetworks",
);

export const getVirtualNetwork: Handler = (_request, params, core) => {
  const missingGroup = missingResourceGroup(params, core);
  if (missingGroup) return missingGroup;
  const network = networkAt(core, keyFrom(VNET_ID, params));
  return network
    ? ok(network)
    : resourceNotFound("Microsoft.Network/virtualNetworks", params.vnet, params.resourceGroup);
};

export const listPeerings: Handler = (request, params, core) => {
  const missingGroup = missingResourceGroup(params, core);
  if (missingGroup) return missingGroup;
  const key = keyFrom(VNET_ID, params);
  if (networkAt(core, key) === undefined) {
    return resourceNotFound("Microsoft.Network/virtualNetworks", params.vnet, params.resourceGroup);
  }
  return listReply(
    request,
    core,
    core.store.list("virtualNetworkPeerings", `${key}/virtualnetworkpeerings/`),
  );
};

export const getPeering: Handler = (_request, params, core) => {
  const missingGroup = missingResourceGroup(params, core);
  if (missingGroup) return missingGroup;
  if (networkAt(core, keyFrom(VNET_ID, params)) === undefined) {
    return resourceNotFound("Microsoft.Network/virtualNetworks", params.vnet, params.resourceGroup);
  }
  const peering = core.store.get("virtualNetworkPeerings", keyFrom(PEERING_ID, params));
  return peering ? ok(cloneJson(peering)) : childNotFound(idFrom(PEERING_ID, params));
};
