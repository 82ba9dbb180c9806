// GET handlers: single resources and lists, with ARM's not-found answers. ARM checks the resource
// group first (`ResourceGroupNotFound`), then the top-level resource (`ResourceNotFound`, from ARM's
// front door), and the network provider answers a missing child with `NotFound`.
import type { ArmRequest, EmulatorCore, Handler } from "./core";
import { cloneJson } from "./json";
import { CLUSTER_ID, GROUP_ID, keyFrom, type PathParams, POLICY_ID, resourceKey, SUBNET_ID } from "./paths";
import { type ArmReply, armError, ok } from "./replies";
import { RESOURCE_TYPES, type ResourceKind } from "./store";
import type { ArmResource } from "./types";

export const RESOURCE_GROUP = "/subscriptions/{subscription}/resourceGroups/{resourceGroup}";

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

export function prefix(pattern: string, params: PathParams, tail: string): string {
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
export function listIn(
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

export const stored = (kind: ResourceKind) => (core: EmulatorCore, prefix: string) =>
  core.store.list(kind, prefix);

/** GET of a top-level resource kept as it is stored; `serve` adds what ARM computes at read time. */
export function getStored(
  kind: ResourceKind,
  pattern: string,
  nameParam: string,
  serve: (core: EmulatorCore, resource: ArmResource) => ArmResource = (_core, resource) => resource,
): Handler {
  return (_request, params, core) => {
    const missingGroup = missingResourceGroup(params, core);
    if (missingGroup) return missingGroup;
    const resource = core.store.get(kind, keyFrom(pattern, params));
    if (!resource) return resourceNotFound(RESOURCE_TYPES[kind], params[nameParam], params.resourceGroup);
    return ok(serve(core, cloneJson(resource)));
  };
}

/**
 * GET and list of a child kind under a stored parent (a hub's connections, its routing intent): the
 * resource group, then the parent (`ResourceNotFound`), then the child (`NotFound`).
 */
export function storedChildren(
  parent: { kind: ResourceKind; pattern: string; nameParam: string },
  kind: ResourceKind,
  pattern: string,
  segment: string,
): { list: Handler; get: Handler } {
  const findParent = (params: PathParams, core: EmulatorCore): ArmResource | ArmReply => {
    const missingGroup = missingResourceGroup(params, core);
    if (missingGroup) return missingGroup;
    const found = core.store.get(parent.kind, keyFrom(parent.pattern, params));
    return (
      found ?? resourceNotFound(RESOURCE_TYPES[parent.kind], params[parent.nameParam], params.resourceGroup)
    );
  };
  return {
    list: (request, params, core) => {
      const found = findParent(params, core);
      if (isReply(found)) return found;
      return listReply(
        request,
        core,
        core.store.list(kind, `${resourceKey(found.id)}/${segment.toLowerCase()}/`),
      );
    },
    get: (_request, params, core) => {
      const found = findParent(params, core);
      if (isReply(found)) return found;
      const child = core.store.get(kind, keyFrom(pattern, params));
      return child ? ok(cloneJson(child)) : childNotFound(idFrom(pattern, params));
    },
  };
}

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
