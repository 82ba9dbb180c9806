// What the service would refuse, refused before the PUT with the numbers in the message: a plan that
// cannot be applied should fail where a person reads it, not minutes into a long-running operation.
import { GuardError } from "../errors";
import { inRange, PRIORITY_MAX, PRIORITY_MIN } from "./priorities";
import type { NetworkRuleBody, RuleCollectionGroup } from "./types";

/** Rules of one rule collection group, serialised (azure-notes §2; older policies allow only 1 MB). */
export const GROUP_RULES_LIMIT_BYTES = 2 * 1024 * 1024;

export function rulesSize(group: RuleCollectionGroup): number {
  return new TextEncoder().encode(JSON.stringify(group.ruleCollections)).length;
}

export function checkLimits(group: RuleCollectionGroup): void {
  const size = rulesSize(group);
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
export function networkPairs(group: RuleCollectionGroup): number {
  const byDestination = new Map<string, Set<string>>();
  for (const collection of group.ruleCollections)
    for (const rule of collection.rules ?? []) {
      if (rule.ruleType !== "NetworkRule") continue;
      const r = rule as NetworkRuleBody;
      const destinations = [
        ...(r.destinationAddresses ?? []),
        ...(r.destinationFqdns ?? []),
        ...(r.destinationIpGroups ?? []),
      ].map((d) => d.toLowerCase());
      const sources = [...(r.sourceAddresses ?? []), ...(r.sourceIpGroups ?? [])].map((s) => s.toLowerCase());
      for (const d of destinations) {
        let seen = byDestination.get(d);
        if (seen === undefined) {
          seen = new Set();
          byDestination.set(d, seen);
        }
        for (const s of sources) seen.add(s);
      }
    }
  let pairs = 0;
  for (const sources of byDestination.values()) pairs += sources.size;
  return pairs;
}

export function checkNetworkPairs(group: RuleCollectionGroup): void {
  const pairs = networkPairs(group);
  if (pairs <= NETWORK_PAIRS_LIMIT) return;
  throw new GuardError(
    "PLAN_EXCEEDS_LIMITS",
    `the network rules of group ${group.name} would hold ${pairs} unique source/destination pairs, over Azure's limit of ${NETWORK_PAIRS_LIMIT}; nothing is written. Serve fewer clusters from this firewall policy.`,
    { details: { group: group.name, pairs, limit: NETWORK_PAIRS_LIMIT } },
  );
}
