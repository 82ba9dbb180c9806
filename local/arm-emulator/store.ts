// The emulated estate: resources in wire format, keyed by lower-cased ID, in insertion order (ARM
// lists come back in a stable order, and tests compare lists).
import { randomUUID } from "node:crypto";
import { GuardError } from "../../errors";
import { asObject, cloneJson, isObject } from "./json";
import {
  CLUSTER_ID,
  GROUP_ID,
  matchPattern,
  POLICY_ID,
  resourceGroupKeyOf,
  resourceKey,
  SUBNET_ID,
} from "./paths";
import type { ArmResource, EmulatorSeed, EmulatorState, JsonObject } from "./types";
import { isGroupBodyProblem, validateGroupBody } from "./validation";

export type ResourceKind = keyof EmulatorState;

export const RESOURCE_KINDS: readonly ResourceKind[] = [
  "managedClusters",
  "subnets",
  "firewallPolicies",
  "ruleCollectionGroups",
];

const ID_PATTERNS: Record<ResourceKind, string> = {
  managedClusters: CLUSTER_ID,
  subnets: SUBNET_ID,
  firewallPolicies: POLICY_ID,
  ruleCollectionGroups: GROUP_ID,
};

export const RESOURCE_TYPES: Record<ResourceKind, string> = {
  managedClusters: "Microsoft.ContainerService/managedClusters",
  subnets: "Microsoft.Network/virtualNetworks/subnets",
  firewallPolicies: "Microsoft.Network/firewallPolicies",
  ruleCollectionGroups: "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
};

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

export class EstateStore {
  private readonly maps: Record<ResourceKind, Map<string, ArmResource>> = {
    managedClusters: new Map(),
    subnets: new Map(),
    firewallPolicies: new Map(),
    ruleCollectionGroups: new Map(),
  };

  /** Loads a seed, filling what ARM would always send (name, type, etag, provisioningState). */
  constructor(seed: EmulatorSeed) {
    for (const kind of RESOURCE_KINDS) {
      for (const [index, item] of (seed[kind] ?? []).entries()) {
        this.load(kind, cloneJson(item), `${kind}[${index}]`);
      }
    }
    for (const policyKey of this.maps.firewallPolicies.keys()) this.refreshPolicyGroups(policyKey);
  }

  private load(kind: ResourceKind, resource: ArmResource, where: string): void {
    if (!isObject(resource) || typeof resource.id !== "string") {
      throw new GuardError("BAD_ARGUMENT", `seed ${where}: a resource needs a string id`);
    }
    const params = matchPattern(ID_PATTERNS[kind], resource.id);
    if (!params) {
      throw new GuardError(
        "EMULATOR_UNSUPPORTED",
        `seed ${where}: ${resource.id} is not a ${RESOURCE_TYPES[kind]} ID`,
      );
    }
    const key = resourceKey(resource.id);
    if (this.maps[kind].has(key))
      throw new GuardError("BAD_ARGUMENT", `seed ${where}: duplicate id ${resource.id}`);
    const lastName = Object.values(params).at(-1) ?? "";
    resource.name ??= lastName;
    resource.type ??= RESOURCE_TYPES[kind];
    const properties = propertiesOf(resource);
    properties.provisioningState ??= "Succeeded";
    if (kind === "firewallPolicies") resource.etag ??= newEtag();
    if (kind === "ruleCollectionGroups") {
      const policy = this.maps.firewallPolicies.get(resourceKey(parentPolicyId(resource.id)));
      if (!policy)
        throw new GuardError("BAD_ARGUMENT", `seed ${where}: its firewall policy is not in the seed`);
      const checked = validateGroupBody(resource, { dnsProxyEnabled: dnsProxyEnabled(policy) });
      if (isGroupBodyProblem(checked)) {
        throw new GuardError("BAD_ARGUMENT", `seed ${where}: ${checked.code}: ${checked.message}`);
      }
      properties.size ??= groupSize(checked.ruleCollections);
      resource.etag ??= newEtag();
    }
    this.maps[kind].set(key, resource);
  }

  /**
   * Replaces (or adds) a cluster or subnet, as if someone changed it in Azure: the emulator serves no
   * writes for them, so tests and the local walkthrough change the estate through this.
   */
  upsert(resource: ArmResource): ResourceKind {
    const kind = (["managedClusters", "subnets"] as const).find(
      (k) => typeof resource.id === "string" && matchPattern(ID_PATTERNS[k], resource.id) !== undefined,
    );
    if (kind === undefined) {
      throw new GuardError(
        "BAD_ARGUMENT",
        "only a managedCluster or a subnet (with its full id) can be upserted",
      );
    }
    this.maps[kind].delete(resourceKey(resource.id as string));
    this.load(kind, cloneJson(resource), "upsert");
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
    const copy = (kind: ResourceKind): ArmResource[] =>
      [...this.maps[kind].values()].map((r) => cloneJson(r));
    return {
      managedClusters: copy("managedClusters"),
      subnets: copy("subnets"),
      firewallPolicies: copy("firewallPolicies"),
      ruleCollectionGroups: copy("ruleCollectionGroups"),
    };
  }
}

/** `/…/firewallPolicies/p/ruleCollectionGroups/g` → `/…/firewallPolicies/p`. */
export function parentPolicyId(groupId: string): string {
  return groupId.replace(/\/ruleCollectionGroups\/[^/]+\/?$/i, "");
}
