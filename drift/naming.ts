// How the managed group records ownership (DESIGN §3 "Ownership", "State lives in Azure"): a cluster's
// collections are named from its name and a hash of its ID, and every rule's description starts
// with the full ID, so the group alone says which clusters it serves.
import { sha256Hex } from "./canonical";

export type CollectionKind = "app" | "net";
export const COLLECTION_KINDS: readonly CollectionKind[] = ["app", "net"];

/** Azure's limit on rule collection names. */
export const COLLECTION_NAME_LIMIT = 80;
const HASH_LENGTH = 8;
/** Separates the owner's ID from the catalog's description in every rule we write. */
export const OWNER_SEPARATOR = " | ";
// "aks-" + name + "-" + hash + "-app": what is left for the name (AKS names are at most 63 anyway).
const NAME_ROOM = COLLECTION_NAME_LIMIT - "aks-".length - 1 - HASH_LENGTH - "-app".length;

const CLUSTER_ID =
  /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.containerservice\/managedclusters\/[^/]+$/;

/** ARM IDs come in several casings (resourcegroups vs resourceGroups); this is the one we compare. */
export function clusterKey(id: string): string {
  return id.trim().toLowerCase();
}

export function clusterHash(id: string): string {
  return sha256Hex(clusterKey(id)).slice(0, HASH_LENGTH);
}

/** `aks-<name>-<hash>-app|net`: at most 80 characters of [a-z0-9._-], stable for the cluster's life. */
export function collectionName(cluster: { id: string; name: string }, kind: CollectionKind): string {
  const slug =
    cluster.name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .slice(0, NAME_ROOM)
      .replace(/^[._-]+|[._-]+$/g, "") || "cluster";
  return `aks-${slug}-${clusterHash(cluster.id)}-${kind}`;
}

export function ownedDescription(clusterId: string, description: string): string {
  return `${clusterKey(clusterId)}${OWNER_SEPARATOR}${description}`;
}

/** The cluster ID a rule's description names as its owner, lower-cased; undefined when it names none. */
export function ownerOf(description: string | undefined): string | undefined {
  if (description === undefined) return undefined;
  const at = description.indexOf(OWNER_SEPARATOR);
  const head = clusterKey(at < 0 ? description : description.slice(0, at));
  return CLUSTER_ID.test(head) ? head : undefined;
}

/** The owner named by the first rule that names one (all rules of a collection we write name the same). */
export function ownerOfCollection(
  rules: readonly { description?: string }[] | undefined,
): string | undefined {
  for (const rule of rules ?? []) {
    const owner = ownerOf(rule.description);
    if (owner !== undefined) return owner;
  }
  return undefined;
}

// The shared layout (README "Design notes"): one Allow collection of application rules and one of
// network rules (more only past RULES_PER_COLLECTION), each rule named from what it allows.

/** Rules per shared collection before another collection of that kind is opened. */
export const RULES_PER_COLLECTION = 1000;
/** Azure's limit on rule names (as on collection names). */
export const RULE_NAME_LIMIT = 80;
const SHARED_PREFIX = "aks-egress-shared";

/** `aks-egress-shared-app`, then `aks-egress-shared-app-2`, …: the shared collections' names. */
export function sharedCollectionName(kind: CollectionKind, index: number): string {
  return index === 0 ? `${SHARED_PREFIX}-${kind}` : `${SHARED_PREFIX}-${kind}-${index + 1}`;
}

export function isSharedCollectionName(name: string): boolean {
  return /^aks-egress-shared-(app|net)(-[0-9]+)?$/.test(name.toLowerCase());
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/^\*\./, "wildcard.")
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "");
}

/** The short hash that names a shared rule: of the sorted keys of the atoms it allows. */
export function atomSetHash(atomKeys: readonly string[]): string {
  return sha256Hex([...atomKeys].sort().join("\n")).slice(0, HASH_LENGTH);
}

/**
 * `app-https-443-mcr.microsoft.com-1a2b3c4d`: kind, protocol and port, the first destination, and
 * the hash of the atom set, at most 80 characters. The atom set is the rule's alone, so the name is
 * unique in its collection and stable while the rule allows the same things.
 */
export function sharedRuleName(
  prefix: string,
  firstDestination: string,
  atomKeys: readonly string[],
): string {
  const hash = atomSetHash(atomKeys);
  const head = `${prefix}-${slug(firstDestination) || "none"}`
    .slice(0, RULE_NAME_LIMIT - HASH_LENGTH - 1)
    .replace(/[-.]+$/, "");
  return `${head}-${hash}`;
}

/** True when the rule's name carries the hash of exactly the atoms it allows: a shared rule as written. */
export function isSharedRuleName(name: string, atomKeys: readonly string[]): boolean {
  return (
    atomKeys.length > 0 &&
    /^(app|net)-/.test(name) &&
    name.toLowerCase().endsWith(`-${atomSetHash(atomKeys)}`)
  );
}
