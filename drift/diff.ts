// Rule-level differences between the managed group as read and as the clusters need it: the `+`,
// `-` and `~` lines of a plan. Everything is compared in the canonical form of normalise.ts, so what
// is listed here is exactly what makes the two groups differ.

import { atomsOfRule } from "./atoms";
import { byText, canonicalJson, type Json } from "./canonical";
import { isSharedCollectionName, isSharedRuleName, ownerOf, ownerOfCollection } from "./naming";
import {
  byCollectionPriority,
  type CanonicalText,
  type CollectionText,
  canonicalText,
  collectionPriority,
  normaliseRule,
} from "./normalise";
import type { RuleBody, RuleChange, RuleCollection, RuleCollectionGroup } from "./types";

export interface DiffContext {
  /** Lower-cased IDs of the clusters the policy serves now. */
  presentClusters: ReadonlySet<string>;
  dnsProxyEnabled: boolean;
}

export const FOREIGN_RULE = "foreign rule inside the managed group";

/** Fields in the order people read a rule; anything else follows alphabetically. */
const FIELD_ORDER = [
  "ruleType",
  "sourceAddresses",
  "sourceIpGroups",
  "protocols",
  "targetFqdns",
  "targetUrls",
  "fqdnTags",
  "webCategories",
  "terminateTLS",
  "ipProtocols",
  "destinationAddresses",
  "destinationIpGroups",
  "destinationFqdns",
  "destinationPorts",
  "description",
];

function fieldRank(field: string): number {
  const at = FIELD_ORDER.indexOf(field);
  return at < 0 ? FIELD_ORDER.length : at;
}

/** A value as people wrote it (original casing), lists sorted: "22,9000", "Https:443", "(none)". */
export function displayValue(value: Json | undefined): string {
  if (value === undefined || value === null || value === false || value === "") return "(none)";
  if (Array.isArray(value)) {
    if (value.length === 0) return "(none)";
    return value
      .map((item) => {
        if (typeof item === "string" || typeof item === "number") return String(item);
        if (item !== null && typeof item === "object" && !Array.isArray(item) && "protocolType" in item) {
          return `${String(item.protocolType)}:${String(item.port)}`;
        }
        return canonicalJson(item);
      })
      .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10) || byText(a, b))
      .join(",");
  }
  if (typeof value === "object") return canonicalJson(value);
  return String(value);
}

function rawField(rule: RuleBody, field: string): Json | undefined {
  return (rule as Readonly<Record<string, Json | undefined>>)[field];
}

/** "destinationPorts: 9000 -> 22,9000" for every field whose canonical value differs. */
export function fieldDifferences(before: RuleBody, after: RuleBody): string[] {
  const a = normaliseRule(before);
  const b = normaliseRule(after);
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((f) => f !== "name" && canonicalJson(a[f]) !== canonicalJson(b[f]))
    .sort((x, y) => fieldRank(x) - fieldRank(y) || byText(x, y));
  return fields.map((field) => {
    const show = (rule: RuleBody) => {
      const text = displayValue(rawField(rule, field));
      return field === "description" && text !== "(none)" ? JSON.stringify(text) : text;
    };
    return `${field}: ${show(before)} -> ${show(after)}`;
  });
}

function byName<T extends { name: string }>(items: readonly T[] | undefined): Map<string, T> {
  return new Map((items ?? []).map((item) => [item.name.toLowerCase(), item]));
}

/**
 * `texts` are the two groups' canonicalText when the caller has them already (planPolicy does): the
 * diff then normalises nothing again but the rules that differ, to show how.
 */
export function diffGroups(
  current: RuleCollectionGroup | undefined,
  desired: RuleCollectionGroup,
  context: DiffContext,
  texts?: { current?: CanonicalText; desired: CanonicalText },
): RuleChange[] {
  const was = current === undefined ? undefined : (texts?.current ?? canonicalText(current));
  const will = texts?.desired ?? canonicalText(desired);
  const changes: RuleChange[] = [];
  const groupChanges: RuleChange[] = [];
  if (current !== undefined && was?.group.priority !== will.group.priority) {
    // Group-level: collection and rule are empty.
    groupChanges.push({
      kind: "modify",
      collection: "",
      rule: "",
      fields: [`priority: ${current.priority} -> ${desired.priority}`],
    });
  }

  const currentCollections = byName(current?.ruleCollections);
  const desiredCollections = byName(desired.ruleCollections);
  const names = [...new Set([...currentCollections.keys(), ...desiredCollections.keys()])];
  // The collection's priority where it will be (or was, for one that goes); a collection without one
  // (optional in Azure's REST spec) is listed after every collection with one, as normalise.ts orders.
  const priorityOf = (name: string) => {
    const collection = desiredCollections.get(name) ?? currentCollections.get(name);
    return collection === undefined ? undefined : collectionPriority(collection);
  };
  // By priority; at one priority, what stays before what goes.
  const goes = (name: string) => (desiredCollections.has(name) ? 0 : 1);
  names.sort(
    (a, b) => byCollectionPriority(priorityOf(a), priorityOf(b)) || goes(a) - goes(b) || byText(a, b),
  );

  for (const key of names) {
    const before = currentCollections.get(key);
    const after = desiredCollections.get(key);
    const owner = ownerOfCollection(after?.rules) ?? ownerOfCollection(before?.rules);
    changes.push(
      ...diffCollection(before, after, owner, context, was?.collections.get(key), will.collections.get(key)),
    );
  }
  return [...groupChanges, ...changes];
}

function diffCollection(
  before: RuleCollection | undefined,
  after: RuleCollection | undefined,
  owner: string | undefined,
  context: DiffContext,
  beforeText: CollectionText | undefined,
  afterText: CollectionText | undefined,
): RuleChange[] {
  const collection = (after ?? before)?.name ?? "";
  const base = owner === undefined ? { collection } : { collection, clusterId: owner };
  const changes: RuleChange[] = [];

  if (before !== undefined && after !== undefined && beforeText !== undefined && afterText !== undefined) {
    // The same text: nothing in it differs.
    if (beforeText.text === afterText.text) return [];
    const a = beforeText.canonical;
    const b = afterText.canonical;
    const fields: string[] = [];
    if (a.ruleCollectionType !== b.ruleCollectionType)
      fields.push(`ruleCollectionType: ${a.ruleCollectionType} -> ${b.ruleCollectionType}`);
    if (a.priority !== b.priority)
      fields.push(`priority: ${a.priority ?? "(none)"} -> ${b.priority ?? "(none)"}`);
    if (a.action !== b.action) fields.push(`action: ${a.action || "(none)"} -> ${b.action || "(none)"}`);
    // Collection-level: rule is empty.
    if (fields.length > 0) changes.push({ kind: "modify", ...base, rule: "", fields });
  }

  const beforeRules = byName(before?.rules);
  const afterRules = byName(after?.rules);
  const ruleNames = [...new Set([...beforeRules.keys(), ...afterRules.keys()])].sort(byText);
  for (const key of ruleNames) {
    const was = beforeRules.get(key);
    const will = afterRules.get(key);
    if (was === undefined && will !== undefined) {
      changes.push({ kind: "add", ...base, rule: will.name });
    } else if (was !== undefined && will === undefined) {
      changes.push({ kind: "remove", ...base, rule: was.name, reason: removalReason(was, before, context) });
    } else if (
      was !== undefined &&
      will !== undefined &&
      beforeText?.rules.get(key) !== afterText?.rules.get(key)
    ) {
      changes.push({ kind: "modify", ...base, rule: will.name, fields: fieldDifferences(was, will) });
    }
  }

  if (before !== undefined && after === undefined && beforeRules.size === 0) {
    changes.push({ kind: "remove", ...base, rule: "", reason: removalReason(undefined, before, context) });
  }
  return changes;
}

/** Why a rule goes, from the ownership it records (DESIGN §3 "State lives in Azure"). */
function removalReason(
  rule: RuleBody | undefined,
  collection: RuleCollection | undefined,
  context: DiffContext,
): string {
  const owner = ownerOf(rule?.description);
  if (owner !== undefined) {
    // The per-cluster layout: the rule names its cluster.
    if (!context.presentClusters.has(owner)) return `cluster ${owner} is gone or no longer on this policy`;
    return LAYOUT_MIGRATION;
  }
  const shared =
    rule !== undefined &&
    collection !== undefined &&
    isSharedCollectionName(collection.name) &&
    isSharedRuleName(
      rule.name,
      atomsOfRule(rule).map((a) => a.key),
    );
  if (!shared) return FOREIGN_RULE;
  if (!context.dnsProxyEnabled && isFqdnNetworkRule(rule)) {
    return "left out while DNS proxy is off on the firewall policy";
  }
  return "no served cluster needs exactly this any more";
}

export const LAYOUT_MIGRATION = "per-cluster layout: now part of the shared rules";

function isFqdnNetworkRule(rule: RuleBody): boolean {
  const fqdns = rawField(rule, "destinationFqdns");
  return rule.ruleType === "NetworkRule" && Array.isArray(fqdns) && fqdns.length > 0;
}
