// What the service would refuse, refused before the PUT with the numbers in the message: a plan that
// cannot be applied should fail where a person reads it, not minutes into a long-running operation.
import { GuardError } from "../errors";
import { inRange, PRIORITY_MAX, PRIORITY_MIN } from "./priorities";
import type { NetworkRuleBody, RuleCollectionGroup } from "./types";

/** Rules of one rule collection group, serialised (azure-notes §2; older policies allow only 1 MB). */
export const GROUP_RULES_LIMIT_BYTES = 2 * 1024 * 1024;

/**
 * The UTF-8 bytes of JSON.stringify(group.ruleCollections). The shared layout repeats a few long
 * source lists over many rules: each such list is serialised once (or its JSON taken from `texts`,
 * by the list itself, where the caller has it), its bytes counted wherever it appears, and the rest
 * serialised with a stand-in ("null") in its place.
 */
export function rulesSize(
  group: RuleCollectionGroup,
  texts?: ReadonlyMap<readonly unknown[], string>,
): number {
  const measured = new Map<readonly unknown[], number>();
  let listBytes = 0;
  const rest = JSON.stringify(group.ruleCollections, (_key, value: unknown) => {
    if (!Array.isArray(value)) return value;
    let bytes = measured.get(value);
    if (bytes === undefined) {
      // A list whose JSON the caller has counts as that text's bytes, wherever it is: the same bytes
      // it takes inline, so whether it is long, or of strings, changes nothing of the sum.
      const text = texts?.get(value);
      if (text !== undefined) bytes = byteLengthOf(text);
      else if (!isSourceList(value)) return value;
      else bytes = Buffer.byteLength(JSON.stringify(value), "utf8");
      measured.set(value, bytes);
    }
    listBytes += bytes - STAND_IN_BYTES;
    return null;
  });
  return new TextEncoder().encode(rest).length + listBytes;
}

const STAND_IN_BYTES = "null".length;

/** UTF-8 lengths of the texts of recent plans' lists: the same strings, plan after plan, on a warm host. */
const byteLengths = new Map<string, number>();
/** Bounded by the characters of the texts kept (most are held by list-facts.ts anyway). */
let charsKept = 0;
const CHARS_KEPT = 4_000_000;

function byteLengthOf(text: string): number {
  let bytes = byteLengths.get(text);
  if (bytes === undefined) {
    bytes = Buffer.byteLength(text, "utf8");
    if (charsKept + text.length > CHARS_KEPT) {
      byteLengths.clear();
      charsKept = 0;
    }
    charsKept += text.length;
    byteLengths.set(text, bytes);
  }
  return bytes;
}
const LONG_LIST = 16;

/** A long list of strings, serialised the same wherever it is (no toJSON to see where). */
function isSourceList(value: readonly unknown[]): value is string[] {
  return value.length >= LONG_LIST && !("toJSON" in value) && value.every((v) => typeof v === "string");
}

/** `texts`: JSON of the group's lists, by list, as rulesSize may reuse them. */
export function checkLimits(
  group: RuleCollectionGroup,
  texts?: ReadonlyMap<readonly unknown[], string>,
): void {
  const size = rulesSize(group, texts);
  if (size > GROUP_RULES_LIMIT_BYTES) {
    const mb = (size / (1024 * 1024)).toFixed(2);
    throw new GuardError(
      "PLAN_EXCEEDS_LIMITS",
      `the rules of group ${group.name} would take ${size} bytes (${mb} MB) serialised, over the ${GROUP_RULES_LIMIT_BYTES} bytes (2 MB) a rule collection group may hold; serve fewer clusters from this firewall policy.`,
      { details: { group: group.name, size, limit: GROUP_RULES_LIMIT_BYTES } },
    );
  }
  const outside = [
    ...(inRange(group.priority) ? [] : [`group ${group.name}: ${group.priority}`]),
    ...group.ruleCollections
      // Azure's API makes a collection's priority optional; only a given one must be in range.
      .filter((c) => c.priority !== undefined && !inRange(c.priority))
      .map((c) => `collection ${c.name}: ${c.priority}`),
  ];
  if (outside.length > 0) {
    const shown =
      outside.slice(0, 5).join(", ") + (outside.length > 5 ? `, and ${outside.length - 5} more` : "");
    throw new GuardError(
      "PLAN_EXCEEDS_LIMITS",
      `priorities must be integers from ${PRIORITY_MIN} to ${PRIORITY_MAX}; outside that range: ${shown}.`,
      { details: { group: group.name, outside } },
    );
  }
}

/**
 * Rule collection groups one firewall policy may hold (azure-notes §2: 60 for current policies, 50
 * for those created before July 2022; the lower figure would refuse groups Azure accepts, so the
 * current one is used and Azure's own refusal remains the backstop for older policies).
 */
export const POLICY_GROUPS_LIMIT = 60;

/** Creating the managed group on a policy that is already full would be a doomed write: refuse it here. */
export function checkGroupCount(groupName: string, existingGroups: number, groupExists: boolean): void {
  if (groupExists || existingGroups < POLICY_GROUPS_LIMIT) return;
  throw new GuardError(
    "PLAN_EXCEEDS_LIMITS",
    `the firewall policy already holds ${existingGroups} rule collection groups, Azure's limit is ${POLICY_GROUPS_LIMIT}: the managed group ${groupName} cannot be created. Remove or merge a group, or manage these clusters from another policy.`,
    { details: { groups: existingGroups, limit: POLICY_GROUPS_LIMIT } },
  );
}

/** Rule collections one firewall policy may hold, over all its groups (azure-notes §2). */
export const POLICY_COLLECTIONS_LIMIT = 2000;
/** Unique source/destination pairs over a policy's network rules (azure-notes §2). */
export const NETWORK_PAIRS_LIMIT = 20_000;

/** Collections the policy would hold once the managed group is written: the others' and ours. */
export function checkCollectionCount(
  body: RuleCollectionGroup,
  others: readonly RuleCollectionGroup[],
): void {
  const theirs = others.reduce((n, g) => n + g.ruleCollections.length, 0);
  const total = theirs + body.ruleCollections.length;
  if (total <= POLICY_COLLECTIONS_LIMIT) return;
  throw new GuardError(
    "PLAN_EXCEEDS_LIMITS",
    `the firewall policy would hold ${total} rule collections (${body.ruleCollections.length} in the managed group ${body.name}, ${theirs} in other groups), over Azure's limit of ${POLICY_COLLECTIONS_LIMIT}; nothing is written.`,
    { details: { group: body.name, collections: total, limit: POLICY_COLLECTIONS_LIMIT } },
  );
}

/**
 * Unique (source, destination) pairs over the network rules the app writes: the figure Azure limits
 * (an IP Group would count as one address; the app writes none).
 */
export function networkPairs(
  group: RuleCollectionGroup,
  known?: ReadonlyMap<readonly string[], { canonical: boolean }>,
): number {
  // Each destination's source lists; the shared layout gives many destinations one list object.
  const byDestination = new Map<string, Set<readonly string[]>>();
  for (const collection of group.ruleCollections)
    for (const rule of collection.rules ?? []) {
      if (rule.ruleType !== "NetworkRule") continue;
      const r = rule as NetworkRuleBody;
      const destinations = [
        ...(r.destinationAddresses ?? []),
        ...(r.destinationFqdns ?? []),
        ...(r.destinationIpGroups ?? []),
      ].map((d) => d.toLowerCase());
      const sources =
        r.sourceIpGroups === undefined || r.sourceIpGroups.length === 0
          ? (r.sourceAddresses ?? [])
          : [...(r.sourceAddresses ?? []), ...r.sourceIpGroups];
      for (const d of destinations) {
        let lists = byDestination.get(d);
        if (lists === undefined) {
          lists = new Set();
          byDestination.set(d, lists);
        }
        lists.add(sources);
      }
    }
  // Unique lower-cased sources per list, counted once per list.
  const counted = new Map<readonly string[], number>();
  let pairs = 0;
  for (const lists of byDestination.values()) {
    const [only] = lists;
    if (lists.size === 1 && only !== undefined) {
      let count = counted.get(only);
      if (count === undefined) {
        // A list canonical for sourceAddresses is lower-cased and strictly ascending: all unique.
        count = known?.get(only)?.canonical === true ? only.length : uniqueLowerCased(only);
        counted.set(only, count);
      }
      pairs += count;
    } else {
      const seen = new Set<string>();
      for (const list of lists) for (const s of list) seen.add(s.toLowerCase());
      pairs += seen.size;
    }
  }
  return pairs;
}

/** How many sources of the list differ once lower-cased. */
function uniqueLowerCased(list: readonly string[]): number {
  // The app's own lists are lower-cased and strictly ascending: no two alike, nothing to collect.
  let canonical = true;
  for (let i = 0; i < list.length && canonical; i++) {
    const s = list[i];
    canonical = typeof s === "string" && s === s.toLowerCase() && (i === 0 || (list[i - 1] ?? "") < s);
  }
  return canonical ? list.length : new Set(list.map((s) => s.toLowerCase())).size;
}

export function checkNetworkPairs(
  group: RuleCollectionGroup,
  known?: ReadonlyMap<readonly string[], { canonical: boolean }>,
): void {
  const pairs = networkPairs(group, known);
  if (pairs <= NETWORK_PAIRS_LIMIT) return;
  throw new GuardError(
    "PLAN_EXCEEDS_LIMITS",
    `the network rules of group ${group.name} would hold ${pairs} unique source/destination pairs, over Azure's limit of ${NETWORK_PAIRS_LIMIT}; nothing is written. Serve fewer clusters from this firewall policy.`,
    { details: { group: group.name, pairs, limit: NETWORK_PAIRS_LIMIT } },
  );
}
