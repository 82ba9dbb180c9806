// What the service would refuse, refused before the PUT with the numbers in the message: a plan that
// cannot be applied should fail where a person reads it, not minutes into a long-running operation.
import { GuardError } from "../errors";
import { inRange, PRIORITY_MAX, PRIORITY_MIN } from "./priorities";
import type { RuleCollectionGroup } from "./types";

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
