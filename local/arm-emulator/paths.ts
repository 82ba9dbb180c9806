// Path and resource-ID matching. ARM treats resource IDs case-insensitively and real IDs arrive in
// mixed casing (`resourcegroups` vs `resourceGroups`), so literals compare lower-cased and every
// lookup key is the lower-cased ID.

export type PathParams = Record<string, string>;

/** Splits a path into decoded segments, ignoring a trailing slash. */
export function splitPath(path: string): string[] {
  return path
    .split("/")
    .filter((segment) => segment.length > 0)
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
}

/**
 * Matches `path` against a pattern such as `/subscriptions/{subscription}/resourceGroups/{resourceGroup}`:
 * literals case-insensitively, `{name}` captures one segment as sent.
 */
export function matchPattern(pattern: string, path: string): PathParams | undefined {
  const expected = splitPath(pattern);
  const actual = splitPath(path);
  if (expected.length !== actual.length) return undefined;
  const params: PathParams = {};
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i] ?? "";
    const got = actual[i] ?? "";
    if (want.startsWith("{") && want.endsWith("}")) {
      params[want.slice(1, -1)] = got;
    } else if (want.toLowerCase() !== got.toLowerCase()) {
      return undefined;
    }
  }
  return params;
}

/** The key a resource is stored under: its ID lower-cased, without a trailing slash. */
export function resourceKey(id: string): string {
  return `/${splitPath(id).join("/")}`.toLowerCase();
}

export const CLUSTER_ID =
  "/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.ContainerService/managedClusters/{cluster}";
export const VNET_ID =
  "/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.Network/virtualNetworks/{vnet}";
export const SUBNET_ID = `${VNET_ID}/subnets/{subnet}`;
export const POLICY_ID =
  "/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.Network/firewallPolicies/{policy}";
export const GROUP_ID = `${POLICY_ID}/ruleCollectionGroups/{group}`;
export const PEERING_ID = `${VNET_ID}/virtualNetworkPeerings/{peering}`;
export const ROUTE_TABLE_ID =
  "/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.Network/routeTables/{routeTable}";
export const FIREWALL_ID =
  "/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.Network/azureFirewalls/{firewall}";
export const HUB_ID =
  "/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.Network/virtualHubs/{hub}";
export const HUB_CONNECTION_ID = `${HUB_ID}/hubVirtualNetworkConnections/{connection}`;
export const ROUTING_INTENT_ID = `${HUB_ID}/routingIntent/{routingIntent}`;

/** Builds the lower-cased key of an ID pattern from captured parameters. */
export function keyFrom(pattern: string, params: PathParams): string {
  const filled = pattern.replace(/\{(\w+)\}/g, (_whole, name: string) => params[name] ?? "");
  return resourceKey(filled);
}

/** The lower-cased key of the resource group an ID lives in, or undefined for other IDs. */
export function resourceGroupKeyOf(id: string): string | undefined {
  const segments = splitPath(id);
  if (segments.length < 4) return undefined;
  if (segments[0]?.toLowerCase() !== "subscriptions" || segments[2]?.toLowerCase() !== "resourcegroups") {
    return undefined;
  }
  return `/subscriptions/${segments[1]}/resourcegroups/${segments[3]}`.toLowerCase();
}
