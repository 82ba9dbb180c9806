// Shape checks for the network resources the emulator serves read-only (route tables, firewalls,
// virtual hubs and their children, virtual networks and peerings), applied when they are seeded or put
// through `PUT /_emulator/resources`. Only the fields the app reads are checked, against the REST
// spec's types: a typo in a seed (`nextHop` for `nextHopType`, a subnet ID where a route table's
// belongs) then fails naming the field, instead of the app later reading a network that ARM could
// never have sent.
import { asObject, asString, isObject } from "./json";
import { FIREWALL_ID, HUB_ID, matchPattern, POLICY_ID, ROUTE_TABLE_ID, SUBNET_ID, VNET_ID } from "./paths";
import type { ArmResource, JsonObject, JsonValue } from "./types";

export class ShapeProblem extends Error {}

function problem(message: string): never {
  throw new ShapeProblem(message);
}

/** Route `nextHopType` values (RouteNextHopType in the REST spec). */
export const NEXT_HOP_TYPES = ["VirtualNetworkGateway", "VnetLocal", "Internet", "VirtualAppliance", "None"];
/** Routing intent destinations a routing policy may name. */
const ROUTING_DESTINATIONS = ["Internet", "PrivateTraffic"];

function objectAt(value: JsonValue | undefined, where: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) problem(`${where} must be an object`);
  return value;
}

function arrayAt(value: JsonValue | undefined, where: string): JsonValue[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) problem(`${where} must be an array`);
  return value;
}

function stringAt(value: JsonValue | undefined, where: string, required: boolean): string | undefined {
  if (value === undefined || value === null) {
    if (required) problem(`${where} is required`);
    return undefined;
  }
  if (typeof value !== "string" || value.trim() === "") problem(`${where} must be a non-empty string`);
  return value;
}

function stringsAt(value: JsonValue | undefined, where: string): string[] {
  const items = arrayAt(value, where);
  if (!items.every((item) => typeof item === "string")) problem(`${where} must be an array of strings`);
  return items as string[];
}

/** `{ "id": "…" }` pointing at a resource of the given kind (`what` names it in messages). */
function referenceAt(
  value: JsonValue | undefined,
  where: string,
  pattern: string,
  what: string,
  required = false,
): void {
  const reference = objectAt(value, where);
  if (reference === undefined) {
    if (required) problem(`${where} is required: { "id": <${what} ID> }`);
    return;
  }
  const id = stringAt(reference.id, `${where}.id`, true) ?? "";
  if (matchPattern(pattern, id) === undefined) problem(`${where}.id ${id} is not a ${what} ID`);
}

function propertiesAt(resource: ArmResource): JsonObject {
  return objectAt(resource.properties, "properties") ?? {};
}

export function checkSubnet(resource: ArmResource): void {
  const properties = propertiesAt(resource);
  stringAt(properties.addressPrefix, "properties.addressPrefix", false);
  stringsAt(properties.addressPrefixes, "properties.addressPrefixes");
  referenceAt(
    properties.routeTable,
    "properties.routeTable",
    ROUTE_TABLE_ID,
    "Microsoft.Network/routeTables",
  );
}

export function checkRouteTable(resource: ArmResource): void {
  const names = new Set<string>();
  arrayAt(propertiesAt(resource).routes, "properties.routes").forEach((item, i) => {
    const where = `properties.routes[${i}]`;
    if (!isObject(item)) problem(`${where} must be an object`);
    const name = stringAt(item.name, `${where}.name`, true) ?? "";
    if (names.has(name.toLowerCase())) problem(`${where}.name ${name} is not unique in the route table`);
    names.add(name.toLowerCase());
    const properties = objectAt(item.properties, `${where}.properties`);
    if (properties === undefined) problem(`${where}.properties is required`);
    stringAt(properties.addressPrefix, `${where}.properties.addressPrefix`, true);
    const hop = stringAt(properties.nextHopType, `${where}.properties.nextHopType`, true) ?? "";
    if (!NEXT_HOP_TYPES.some((t) => t.toLowerCase() === hop.toLowerCase())) {
      problem(`${where}.properties.nextHopType ${hop} is not one of ${NEXT_HOP_TYPES.join(", ")}`);
    }
    const address = stringAt(properties.nextHopIpAddress, `${where}.properties.nextHopIpAddress`, false);
    if (hop.toLowerCase() === "virtualappliance" && address === undefined) {
      problem(`${where}.properties.nextHopIpAddress is required when nextHopType is VirtualAppliance`);
    }
  });
}

export function checkAzureFirewall(resource: ArmResource): void {
  const properties = propertiesAt(resource);
  arrayAt(properties.ipConfigurations, "properties.ipConfigurations").forEach((item, i) => {
    const where = `properties.ipConfigurations[${i}]`;
    if (!isObject(item)) problem(`${where} must be an object`);
    const configuration = objectAt(item.properties, `${where}.properties`) ?? {};
    stringAt(configuration.privateIPAddress, `${where}.properties.privateIPAddress`, false);
    referenceAt(configuration.subnet, `${where}.properties.subnet`, SUBNET_ID, "subnet");
  });
  referenceAt(
    properties.firewallPolicy,
    "properties.firewallPolicy",
    POLICY_ID,
    "Microsoft.Network/firewallPolicies",
  );
  referenceAt(properties.virtualHub, "properties.virtualHub", HUB_ID, "Microsoft.Network/virtualHubs");
  const hub = objectAt(properties.hubIPAddresses, "properties.hubIPAddresses");
  stringAt(hub?.privateIPAddress, "properties.hubIPAddresses.privateIPAddress", false);
}

export function checkVirtualHub(resource: ArmResource): void {
  referenceAt(
    propertiesAt(resource).azureFirewall,
    "properties.azureFirewall",
    FIREWALL_ID,
    "Microsoft.Network/azureFirewalls",
  );
}

/** A hub connection and a peering each name the virtual network at their other end, and need it. */
export function checkRemoteNetwork(resource: ArmResource): void {
  referenceAt(
    propertiesAt(resource).remoteVirtualNetwork,
    "properties.remoteVirtualNetwork",
    VNET_ID,
    "Microsoft.Network/virtualNetworks",
    true,
  );
}

export function checkRoutingIntent(resource: ArmResource): void {
  arrayAt(propertiesAt(resource).routingPolicies, "properties.routingPolicies").forEach((item, i) => {
    const where = `properties.routingPolicies[${i}]`;
    if (!isObject(item)) problem(`${where} must be an object`);
    stringAt(item.name, `${where}.name`, true);
    const destinations = stringsAt(item.destinations, `${where}.destinations`);
    if (destinations.length === 0) problem(`${where}.destinations must name Internet and/or PrivateTraffic`);
    for (const destination of destinations) {
      if (!ROUTING_DESTINATIONS.includes(destination)) {
        problem(`${where}.destinations: ${destination} is not one of ${ROUTING_DESTINATIONS.join(", ")}`);
      }
    }
    stringAt(item.nextHop, `${where}.nextHop`, true);
  });
}

export function checkVirtualNetwork(resource: ArmResource): void {
  const properties = propertiesAt(resource);
  const dhcp = objectAt(properties.dhcpOptions, "properties.dhcpOptions");
  stringsAt(dhcp?.dnsServers, "properties.dhcpOptions.dnsServers");
  stringsAt(asObject(properties.addressSpace)?.addressPrefixes, "properties.addressSpace.addressPrefixes");
  for (const list of ["subnets", "virtualNetworkPeerings"]) {
    arrayAt(properties[list], `properties.${list}`).forEach((item, i) => {
      if (!isObject(item)) problem(`properties.${list}[${i}] must be an object`);
      if (asString(item.id) === undefined && asString(item.name) === undefined) {
        problem(`properties.${list}[${i}] needs an id or a name`);
      }
    });
  }
}
