// GET handlers: single resources and lists, with ARM's not-found answers. ARM checks the resource
// group first (`ResourceGroupNotFound`), then the top-level resource (`ResourceNotFound`, from ARM's
// front door), and the network provider answers a missing child with `NotFound`.
import { createHash } from "node:crypto";
import type { ArmRequest, EmulatorCore, Handler } from "./core";
import { asObject, asString, cloneJson } from "./json";
import {
  CLUSTER_ID,
  GROUP_ID,
  keyFrom,
  type PathParams,
  POLICY_ID,
  resourceKey,
  SUBNET_ID,
  VNET_ID,
} from "./paths";
import { type ArmReply, armError, ok } from "./replies";
import type { ResourceKind } from "./store";
import type { ArmResource, JsonValue } from "./types";

const RESOURCE_GROUP = "/subscriptions/{subscription}/resourceGroups/{resourceGroup}";

/** Not-found answers in ARM's words, or undefined when the resource group exists. */
export function missingResourceGroup(params: PathParams, core: EmulatorCore): ArmReply | undefined {
  if (core.store.hasResourceGroup(keyFrom(RESOURCE_GROUP, params))) return undefined;
  return armError(
    404,
    "ResourceGroupNotFound",
    `Resource group '${params.resourceGroup}' could not be found.`,
  );
}

export function resourceNotFound(
  type: string,
  name: string | undefined,
  resourceGroup: string | undefined,
): ArmReply {
  return armError(
    404,
    "ResourceNotFound",
    `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. ` +
      "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
  );
}

export function childNotFound(id: string): ArmReply {
  return armError(404, "NotFound", `Resource ${id} not found.`);
}

/** Finds a firewall policy or says why not. */
export function findPolicy(params: PathParams, core: EmulatorCore): ArmResource | ArmReply {
  const missingGroup = missingResourceGroup(params, core);
  if (missingGroup) return missingGroup;
  const policy = core.store.get("firewallPolicies", keyFrom(POLICY_ID, params));
  return (
    policy ?? resourceNotFound("Microsoft.Network/firewallPolicies", params.policy, params.resourceGroup)
  );
}

export function isReply(value: ArmResource | ArmReply): value is ArmReply {
  return typeof value.status === "number" && !("id" in value);
}

/** A list answer, paged with `nextLink` (`$skipToken` is an offset) when a page size is set. */
export function listReply(request: ArmRequest, core: EmulatorCore, items: readonly ArmResource[]): ArmReply {
  const size = core.settings.pageSize;
  if (size === undefined) return ok({ value: items.map((item) => cloneJson(item)) });
  const skip = Math.max(0, Number.parseInt(request.query.$skipToken ?? "0", 10) || 0);
  const page = items.slice(skip, skip + size).map((item) => cloneJson(item));
  if (skip + size >= items.length) return ok({ value: page });
  const next = new URL(request.path, request.baseUrl);
  next.searchParams.set("api-version", request.apiVersion);
  next.searchParams.set("$skipToken", String(skip + size));
  return ok({ value: page, nextLink: next.toString() });
}

function prefix(pattern: string, params: PathParams, tail: string): string {
  return `${keyFrom(pattern, params)}${tail}`;
}

export const getCluster: Handler = (_request, params, core) => {
  const missingGroup = missingResourceGroup(params, core);
  if (missingGroup) return missingGroup;
  const cluster = core.store.get("managedClusters", keyFrom(CLUSTER_ID, params));
  if (!cluster)
    return resourceNotFound(
      "Microsoft.ContainerService/managedClusters",
      params.cluster,
      params.resourceGroup,
    );
  return ok(cloneJson(cluster));
};

/** List handlers per subscription and per resource group, over what `under(prefix)` gives. */
function listIn(
  under: (core: EmulatorCore, prefix: string) => ArmResource[],
  providerPath: string,
): { subscription: Handler; resourceGroup: Handler } {
  return {
    subscription: (request, params, core) =>
      listReply(request, core, under(core, `${resourceKey(`/subscriptions/${params.subscription}/`)}/`)),
    resourceGroup: (request, params, core) => {
      const missingGroup = missingResourceGroup(params, core);
      if (missingGroup) return missingGroup;
      return listReply(request, core, under(core, prefix(RESOURCE_GROUP, params, `${providerPath}/`)));
    },
  };
}

const stored = (kind: ResourceKind) => (core: EmulatorCore, prefix: string) => core.store.list(kind, prefix);

export const listClusters = listIn(
  stored("managedClusters"),
  "/providers/microsoft.containerservice/managedclusters",
);
export const listPolicies = listIn(
  stored("firewallPolicies"),
  "/providers/microsoft.network/firewallpolicies",
);

export const getSubnet: Handler = (_request, params, core) => {
  const missingGroup = missingResourceGroup(params, core);
  if (missingGroup) return missingGroup;
  const key = keyFrom(SUBNET_ID, params);
  const subnet = core.store.get("subnets", key);
  if (subnet) return ok(cloneJson(subnet));
  const vnetKey = key.replace(/\/subnets\/[^/]+$/, "/subnets/");
  if (core.store.list("subnets", vnetKey).length === 0) {
    return resourceNotFound("Microsoft.Network/virtualNetworks", params.vnet, params.resourceGroup);
  }
  return childNotFound(idFrom(SUBNET_ID, params));
};

// Virtual networks. The estate keeps subnets only (what the app reads), so a network is made from
// its subnets, as ARM answers a network GET or list: the subnets embedded in `properties.subnets`
// exactly as their own GET returns them (prefixes, route table, etag), an address space that holds
// them, an etag that changes whenever one of them does; no peerings (the emulated estate has none).
// What the estate does not say (location, custom DNS servers) is left out rather than made up. A
// network without subnets cannot be seeded, so it does not exist here.

const SUBNET_TAIL = /\/subnets\/[^/]+\/?$/i;

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

function virtualNetwork(id: string, subnets: readonly ArmResource[]): ArmResource {
  const embedded = subnets.map((subnet) => cloneJson(subnet));
  const prefixes = [...new Set(subnets.flatMap(prefixesOf))];
  return {
    id,
    name: id.split("/").at(-1) ?? id,
    type: "Microsoft.Network/virtualNetworks",
    etag: `W/"${guidOf(JSON.stringify(embedded))}"`,
    properties: {
      provisioningState: "Succeeded",
      resourceGuid: guidOf(resourceKey(id)),
      addressSpace: { addressPrefixes: prefixes },
      subnets: embedded as JsonValue[],
      virtualNetworkPeerings: [],
      enableDdosProtection: false,
    },
  };
}

/** The networks whose subnets' keys start with `prefixKey`, in the order their first subnet was stored. */
function virtualNetworksUnder(core: EmulatorCore, prefixKey: string): ArmResource[] {
  const byNetwork = new Map<string, { id: string; subnets: ArmResource[] }>();
  for (const subnet of core.store.list("subnets", prefixKey)) {
    const id = subnet.id.replace(SUBNET_TAIL, "");
    const key = resourceKey(id);
    const network = byNetwork.get(key) ?? { id, subnets: [] };
    network.subnets.push(subnet);
    byNetwork.set(key, network);
  }
  return [...byNetwork.values()].map(({ id, subnets }) => virtualNetwork(id, subnets));
}

export const listVirtualNetworks = listIn(
  virtualNetworksUnder,
  "/providers/microsoft.network/virtualnetworks",
);

export const getVirtualNetwork: Handler = (_request, params, core) => {
  const missingGroup = missingResourceGroup(params, core);
  if (missingGroup) return missingGroup;
  const [network] = virtualNetworksUnder(core, `${keyFrom(VNET_ID, params)}/subnets/`);
  return network
    ? ok(network)
    : resourceNotFound("Microsoft.Network/virtualNetworks", params.vnet, params.resourceGroup);
};

export const getPolicy: Handler = (_request, params, core) => {
  const policy = findPolicy(params, core);
  return isReply(policy) ? policy : ok(cloneJson(policy));
};

export const getGroup: Handler = (_request, params, core) => {
  const policy = findPolicy(params, core);
  if (isReply(policy)) return policy;
  const group = core.store.get("ruleCollectionGroups", keyFrom(GROUP_ID, params));
  return group ? ok(cloneJson(group)) : childNotFound(idFrom(GROUP_ID, params));
};

export const listGroups: Handler = (request, params, core) => {
  const policy = findPolicy(params, core);
  if (isReply(policy)) return policy;
  return listReply(
    request,
    core,
    core.store.list("ruleCollectionGroups", `${resourceKey(policy.id)}/rulecollectiongroups/`),
  );
};

/** The ID a client asked for, in ARM's canonical casing with the names as sent. */
export function idFrom(pattern: string, params: PathParams): string {
  return pattern.replace(/\{(\w+)\}/g, (_whole, name: string) => params[name] ?? "");
}
