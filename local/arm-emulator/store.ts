// The emulated estate: resources in wire format, keyed by lower-cased ID, in insertion order (ARM
// lists come back in a stable order, and tests compare lists).
import { randomUUID } from "node:crypto";
import { GuardError } from "../../errors";
import { asObject, cloneJson, isObject } from "./json";
import {
  CLUSTER_ID,
  FIREWALL_ID,
  GROUP_ID,
  HUB_CONNECTION_ID,
  HUB_ID,
  matchPattern,
  PEERING_ID,
  POLICY_ID,
  ROUTE_TABLE_ID,
  ROUTING_INTENT_ID,
  resourceGroupKeyOf,
  resourceKey,
  SUBNET_ID,
  splitPath,
  VNET_ID,
} from "./paths";
import {
  checkAzureFirewall,
  checkRemoteNetwork,
  checkRouteTable,
  checkRoutingIntent,
  checkSubnet,
  checkVirtualHub,
  checkVirtualNetwork,
  ShapeProblem,
} from "./shapes";
import type { ArmResource, EmulatorSeed, EmulatorState, JsonObject } from "./types";
import { isGroupBodyProblem, validateGroupBody } from "./validation";

export type ResourceKind = keyof EmulatorState;

/** How the estate keeps one kind of resource. */
interface KindSpec {
  /** The ID pattern a resource of this kind must match. */
  id: string;
  /** ARM's `type`; a resource that gives another `type` is refused. */
  type: string;
  /** The kind of parent it cannot exist without (its ID without the last two segments). */
  parent?: ResourceKind;
  /** Throws a ShapeProblem naming the first field ARM could not have sent. */
  check?: (resource: ArmResource) => void;
  /** Network resources carry an etag; these kinds get one when the seed gives none. */
  etag?: boolean;
}

/** Loading order: parents before their children. */
export const RESOURCE_KINDS: readonly ResourceKind[] = [
  "managedClusters",
  "subnets",
  "firewallPolicies",
  "ruleCollectionGroups",
  "virtualNetworks",
  "virtualNetworkPeerings",
  "routeTables",
  "azureFirewalls",
  "virtualHubs",
  "hubVirtualNetworkConnections",
  "routingIntents",
];

const KINDS: Record<ResourceKind, KindSpec> = {
  managedClusters: { id: CLUSTER_ID, type: "Microsoft.ContainerService/managedClusters" },
  subnets: { id: SUBNET_ID, type: "Microsoft.Network/virtualNetworks/subnets", check: checkSubnet },
  firewallPolicies: { id: POLICY_ID, type: "Microsoft.Network/firewallPolicies", etag: true },
  ruleCollectionGroups: {
    id: GROUP_ID,
    type: "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
    parent: "firewallPolicies",
    etag: true,
  },
  virtualNetworks: { id: VNET_ID, type: "Microsoft.Network/virtualNetworks", check: checkVirtualNetwork },
  virtualNetworkPeerings: {
    id: PEERING_ID,
    type: "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
    check: checkRemoteNetwork,
    etag: true,
  },
  routeTables: {
    id: ROUTE_TABLE_ID,
    type: "Microsoft.Network/routeTables",
    check: checkRouteTable,
    etag: true,
  },
  azureFirewalls: {
    id: FIREWALL_ID,
    type: "Microsoft.Network/azureFirewalls",
    check: checkAzureFirewall,
    etag: true,
  },
  virtualHubs: { id: HUB_ID, type: "Microsoft.Network/virtualHubs", check: checkVirtualHub, etag: true },
  hubVirtualNetworkConnections: {
    id: HUB_CONNECTION_ID,
    type: "Microsoft.Network/virtualHubs/hubVirtualNetworkConnections",
    parent: "virtualHubs",
    check: checkRemoteNetwork,
    etag: true,
  },
  routingIntents: {
    id: ROUTING_INTENT_ID,
    type: "Microsoft.Network/virtualHubs/routingIntent",
    parent: "virtualHubs",
    check: checkRoutingIntent,
    etag: true,
  },
};

export const RESOURCE_TYPES: Record<ResourceKind, string> = Object.fromEntries(
  RESOURCE_KINDS.map((kind) => [kind, KINDS[kind].type]),
) as Record<ResourceKind, string>;

/** The kind whose ID pattern `id` matches, if any. */
export function kindOfId(id: string): ResourceKind | undefined {
  return RESOURCE_KINDS.find((kind) => matchPattern(KINDS[kind].id, id) !== undefined);
}

function emptyMaps(): Record<ResourceKind, Map<string, ArmResource>> {
  return Object.fromEntries(RESOURCE_KINDS.map((kind) => [kind, new Map()])) as Record<
    ResourceKind,
    Map<string, ArmResource>
  >;
}

/** `/…/virtualNetworks/v/subnets/s` → `/…/virtualNetworks/v`: a child's parent, as given. */
export function parentIdOf(id: string): string {
  return `/${splitPath(id).slice(0, -2).join("/")}`;
}

/** Network RP etags are weak GUID etags; a new one on every write. */
export function newEtag(): string {
  return `W/"${randomUUID()}"`;
}

/** `size` of a group as the service reports it (a string in MB). */
export function groupSize(ruleCollections: readonly JsonObject[]): string {
  const bytes = Buffer.byteLength(JSON.stringify(ruleCollections), "utf8");
  return `${(bytes / (1024 * 1024)).toFixed(3)} MB`;
}

export function propertiesOf(resource: ArmResource): JsonObject {
  const existing = asObject(resource.properties);
  if (existing) return existing;
  const created: JsonObject = {};
  resource.properties = created;
  return created;
}

export function dnsProxyEnabled(policy: ArmResource): boolean {
  return asObject(propertiesOf(policy).dnsSettings)?.enableProxy === true;
}

/** What a load stores, and the children it replaces (lower-cased ID prefixes), checked first. */
interface Prepared {
  items: { kind: ResourceKind; resource: ArmResource }[];
  replaces: { kind: ResourceKind; under: string }[];
}

export class EstateStore {
  private readonly maps = emptyMaps();

  /** Loads a seed, filling what ARM would always send (name, type, etag, provisioningState). */
  constructor(seed: EmulatorSeed) {
    for (const kind of RESOURCE_KINDS) {
      for (const [index, item] of (seed[kind] ?? []).entries()) {
        this.load(kind, cloneJson(item), `${kind}[${index}]`, "seed");
      }
    }
    for (const policyKey of this.maps.firewallPolicies.keys()) this.refreshPolicyGroups(policyKey);
  }

  /**
   * Checks and stores one resource. `seed` refuses an ID seen before; `upsert` replaces it (and, for a
   * virtual network that embeds its subnets or peerings, replaces those lists as an ARM PUT does).
   * Everything is checked before anything is stored, so a refused resource changes nothing.
   */
  private load(kind: ResourceKind, resource: ArmResource, where: string, how: "seed" | "upsert"): void {
    const { items, replaces } = this.prepare(kind, resource, where, how);
    for (const { kind: childKind, under } of replaces) {
      for (const child of this.list(childKind, under)) this.maps[childKind].delete(resourceKey(child.id));
    }
    for (const item of items) {
      const key = resourceKey(item.resource.id);
      this.maps[item.kind].delete(key);
      this.maps[item.kind].set(key, item.resource);
      if (item.kind === "ruleCollectionGroups") this.refreshPolicyGroups(resourceKey(parentPolicyId(key)));
      if (item.kind === "firewallPolicies" && how === "upsert") this.refreshPolicyGroups(key);
    }
  }

  /** What `load` stores (the resource, and a network's embedded children), checked and filled. */
  private prepare(
    kind: ResourceKind,
    resource: ArmResource,
    where: string,
    how: "seed" | "upsert",
  ): Prepared {
    if (!isObject(resource) || typeof resource.id !== "string") {
      throw new GuardError("BAD_ARGUMENT", `${how} ${where}: a resource needs a string id`);
    }
    const spec = KINDS[kind];
    const params = matchPattern(spec.id, resource.id);
    if (!params) {
      throw new GuardError(
        "EMULATOR_UNSUPPORTED",
        `${how} ${where}: ${resource.id} is not a ${spec.type} ID`,
      );
    }
    const bad = (message: string) =>
      new GuardError("BAD_ARGUMENT", `${how} ${where} (${resource.id}): ${message}`);
    const type = resource.type;
    if (type !== undefined && (typeof type !== "string" || type.toLowerCase() !== spec.type.toLowerCase())) {
      throw bad(`type ${JSON.stringify(type)} does not match its ID, which is a ${spec.type}`);
    }
    if (resource.properties !== undefined && !isObject(resource.properties))
      throw bad("properties must be an object");
    const key = resourceKey(resource.id);
    if (how === "seed" && this.maps[kind].has(key)) throw bad("duplicate id");
    if (spec.parent !== undefined && !this.maps[spec.parent].has(resourceKey(parentIdOf(resource.id)))) {
      throw bad(`its parent ${parentIdOf(resource.id)} (${KINDS[spec.parent].type}) is not in the estate`);
    }
    try {
      spec.check?.(resource);
    } catch (error) {
      if (error instanceof ShapeProblem) throw bad(error.message);
      throw error;
    }
    resource.name ??= Object.values(params).at(-1) ?? "";
    resource.type ??= spec.type;
    const properties = propertiesOf(resource);
    properties.provisioningState ??= "Succeeded";
    if (spec.etag === true) resource.etag ??= newEtag();
    if (kind === "ruleCollectionGroups") {
      const policy = this.maps.firewallPolicies.get(resourceKey(parentPolicyId(resource.id)));
      const checked = validateGroupBody(resource, {
        dnsProxyEnabled: policy ? dnsProxyEnabled(policy) : false,
      });
      if (isGroupBodyProblem(checked)) throw bad(`${checked.code}: ${checked.message}`);
      properties.size ??= groupSize(checked.ruleCollections);
    }
    if (kind === "routeTables") fillRoutes(resource);
    const embedded =
      kind === "virtualNetworks" ? this.prepareEmbedded(resource, where, how) : { items: [], replaces: [] };
    return { items: [{ kind, resource }, ...embedded.items], replaces: embedded.replaces };
  }

  /**
   * A network's subnets and peerings are resources of their own (GET by ID, embedded when the network
   * is read): a network body that embeds them stores each separately and keeps the rest.
   */
  private prepareEmbedded(network: ArmResource, where: string, how: "seed" | "upsert"): Prepared {
    const properties = propertiesOf(network);
    const key = resourceKey(network.id);
    const prepared: Prepared = { items: [], replaces: [] };
    for (const [kind, segment] of [
      ["subnets", "subnets"],
      ["virtualNetworkPeerings", "virtualNetworkPeerings"],
    ] as const) {
      const embedded = properties[segment];
      if (embedded === undefined) continue;
      delete properties[segment];
      // The embedded list is the whole list: a network upserted with it drops the others.
      if (how === "upsert") prepared.replaces.push({ kind, under: `${key}/${segment.toLowerCase()}/` });
      const seen = new Set<string>();
      (embedded as ArmResource[]).forEach((item, i) => {
        const at = `${where}.properties.${segment}[${i}]`;
        const child = cloneJson(item);
        child.id ??= `${network.id}/${segment}/${String(child.name)}`;
        if (resourceKey(parentIdOf(child.id)) !== key) {
          throw new GuardError("BAD_ARGUMENT", `${how} ${at}: ${child.id} is not a child of ${network.id}`);
        }
        if (seen.has(resourceKey(child.id)))
          throw new GuardError("BAD_ARGUMENT", `${how} ${at}: duplicate id ${child.id}`);
        seen.add(resourceKey(child.id));
        prepared.items.push(...this.prepare(kind, child, at, how).items);
      });
    }
    return prepared;
  }

  /**
   * Replaces (or adds) any emulated resource by its ID, as if someone changed it in Azure: the
   * emulator serves no writes but rule collection groups, so tests and the local walkthrough change
   * the estate through this. Answers the kind it was stored as.
   */
  upsert(resource: ArmResource): ResourceKind {
    if (!isObject(resource) || typeof resource.id !== "string") {
      throw new GuardError("BAD_ARGUMENT", "the resource needs its full id");
    }
    const kind = kindOfId(resource.id);
    if (kind === undefined) {
      throw new GuardError(
        "BAD_ARGUMENT",
        `${resource.id} is not the ID of an emulated resource type (${RESOURCE_KINDS.map((k) => KINDS[k].type).join(", ")})`,
      );
    }
    this.load(kind, cloneJson(resource), "resource", "upsert");
    return kind;
  }

  /** The stored resource itself (not a copy): only the emulator's own handlers mutate it. */
  get(kind: ResourceKind, key: string): ArmResource | undefined {
    return this.maps[kind].get(key);
  }

  /** Resources whose key starts with `prefixKey` (a lower-cased ID prefix ending in `/`). */
  list(kind: ResourceKind, prefixKey: string): ArmResource[] {
    return [...this.maps[kind].entries()].filter(([key]) => key.startsWith(prefixKey)).map(([, r]) => r);
  }

  set(kind: ResourceKind, resource: ArmResource): void {
    this.maps[kind].set(resourceKey(resource.id), resource);
  }

  delete(kind: ResourceKind, key: string): void {
    this.maps[kind].delete(key);
  }

  /** ARM knows resource groups, we only know resources: a group exists if something lives in it. */
  hasResourceGroup(groupKey: string): boolean {
    return RESOURCE_KINDS.some((kind) =>
      [...this.maps[kind].keys()].some((key) => resourceGroupKeyOf(key) === groupKey),
    );
  }

  /** Keeps the policy's read-only `ruleCollectionGroups` list in step with its groups. */
  refreshPolicyGroups(policyKey: string): void {
    const policy = this.maps.firewallPolicies.get(policyKey);
    if (!policy) return;
    propertiesOf(policy).ruleCollectionGroups = this.list(
      "ruleCollectionGroups",
      `${policyKey}/rulecollectiongroups/`,
    ).map((group) => ({ id: group.id }));
  }

  snapshot(): EmulatorState {
    return Object.fromEntries(
      RESOURCE_KINDS.map((kind) => [kind, [...this.maps[kind].values()].map((r) => cloneJson(r))]),
    ) as unknown as EmulatorState;
  }
}

/** Routes are embedded in their table, each with its own ID and type, as ARM sends them. */
function fillRoutes(table: ArmResource): void {
  const routes = propertiesOf(table).routes;
  if (!Array.isArray(routes)) return;
  for (const route of routes) {
    if (!isObject(route)) continue;
    route.id ??= `${table.id}/routes/${String(route.name)}`;
    route.type ??= "Microsoft.Network/routeTables/routes";
    const properties = asObject(route.properties);
    if (properties) properties.provisioningState ??= "Succeeded";
  }
}

/** `/…/firewallPolicies/p/ruleCollectionGroups/g` → `/…/firewallPolicies/p`. */
export function parentPolicyId(groupId: string): string {
  return groupId.replace(/\/ruleCollectionGroups\/[^/]+\/?$/i, "");
}
