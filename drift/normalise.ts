// The canonical form two rule collection groups are compared in. What the service fills in or
// reorders on its own must never look like drift: an unchanged policy shows none, and a pass with no
// drift makes no write (DESIGN §3 "Self-caused events").
import { byText, canonicalJson, type Json } from "./canonical";
import type { RuleBody, RuleCollection, RuleCollectionGroup } from "./types";

export type CanonicalRule = Readonly<Record<string, Json>>;

export interface CanonicalCollection {
  name: string;
  /** Absent when the collection has none (optional in Azure's REST spec): unlike any number. */
  priority?: number;
  ruleCollectionType: string;
  action: string;
  rules: CanonicalRule[];
}

export interface CanonicalGroup {
  name: string;
  priority: number;
  ruleCollections: CanonicalCollection[];
}

/** Set by the service, never sent. */
const READ_ONLY = new Set(["etag", "provisioningState", "id", "size", "type"]);
/**
 * Compared case-insensitively: host names, and addresses (service tags and IPv6 are case-insensitive;
 * folding them also keeps a casing the service might apply from causing a write on every pass).
 */
const FOLD_LOWER = new Set([
  "targetFqdns",
  "destinationFqdns",
  "sourceAddresses",
  "destinationAddresses",
  "sourceIpGroups",
  "destinationIpGroups",
  "translatedFqdn",
]);
const FOLD_UPPER = new Set(["ipProtocols"]);
const PORT_LISTS = new Set(["destinationPorts"]);
const PROTOCOL_TYPES: Readonly<Record<string, string>> = { http: "Http", https: "Https", mssql: "Mssql" };
const ACTIONS: Readonly<Record<string, string>> = { allow: "Allow", deny: "Deny", dnat: "DNAT" };

/** Ports sort as numbers ("22" before "443"), ranges by their start. */
function byPort(a: string, b: string): number {
  return Number.parseInt(a, 10) - Number.parseInt(b, 10) || byText(a, b);
}

function protocolText(value: unknown): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const { protocolType, port } = value as { protocolType?: unknown; port?: unknown };
  if (typeof protocolType !== "string") return undefined;
  const type = PROTOCOL_TYPES[protocolType.toLowerCase()] ?? protocolType;
  return port === undefined || port === null ? type : `${type}:${String(port)}`;
}

/**
 * Lists already found canonical during one normalisation, with the field they were checked for: the
 * app's rules share their source lists, checked once then.
 */
type Checked = Map<readonly unknown[], string>;

/** Missing, null, false, "" and empty arrays/objects all mean "not set": the service returns any of them. */
function canonicalValue(key: string, value: unknown, checked?: Checked): Json | undefined {
  if (value === undefined || value === null || value === false || value === "") return undefined;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return canonicalList(key, value, checked);
  if (typeof value === "object") {
    const entries = Object.entries(value)
      .map(([k, v]) => [k, canonicalValue(k, v, checked)] as const)
      .filter((entry): entry is readonly [string, Json] => entry[1] !== undefined);
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }
  return undefined;
}

// Every list in a rule is a set to the firewall: order and duplicates mean nothing.
function canonicalList(key: string, values: readonly unknown[], checked?: Checked): Json | undefined {
  if (checked?.get(values) === key) return values as string[];
  if (alreadyCanonical(key, values)) {
    checked?.set(values, key);
    return values;
  }
  let texts: string[];
  if (key === "protocols") {
    texts = values.map(protocolText).filter((t): t is string => t !== undefined);
  } else if (values.every((v) => typeof v === "string" || typeof v === "number")) {
    texts = values.map((v) => String(v).trim());
    if (FOLD_LOWER.has(key)) texts = texts.map((t) => t.toLowerCase());
    if (FOLD_UPPER.has(key)) texts = texts.map((t) => t.toUpperCase());
  } else {
    texts = values
      .map((v) => canonicalValue(key, v))
      .filter((v): v is Json => v !== undefined)
      .map(canonicalJson);
  }
  const unique = [...new Set(texts.filter((t) => t !== ""))].sort(PORT_LISTS.has(key) ? byPort : byText);
  if (unique.length === 0) return undefined;
  const structured = key !== "protocols" && values.some((v) => v !== null && typeof v === "object");
  return structured ? unique.map((t) => JSON.parse(t) as Json) : unique;
}

/**
 * A list of strings the steps of canonicalList would give back as it is: trimmed, cased, none empty,
 * strictly ascending (so unique and sorted). The app's own lists are so, and its source lists are
 * long: they are checked in one pass instead. Port lists sort as numbers and are short: not here.
 */
function alreadyCanonical(key: string, values: readonly unknown[]): values is string[] {
  if (values.length === 0 || key === "protocols" || PORT_LISTS.has(key) || "toJSON" in values) return false;
  const lower = FOLD_LOWER.has(key);
  const upper = FOLD_UPPER.has(key);
  let previous = "";
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== "string" || value === "" || value !== value.trim()) return false;
    if ((lower && value !== value.toLowerCase()) || (upper && value !== value.toUpperCase())) return false;
    if (i > 0 && !(previous < value)) return false;
    previous = value;
  }
  return true;
}

/** Whether canonicalList keeps the list as it is for the field `key` (see alreadyCanonical). */
export function isCanonicalList(key: string, values: readonly unknown[]): boolean {
  return alreadyCanonical(key, values);
}

export function normaliseRule(rule: RuleBody): CanonicalRule {
  return canonicalRule(rule);
}

function canonicalRule(rule: RuleBody, checked?: Checked): CanonicalRule {
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(rule as Readonly<Record<string, unknown>>)) {
    if (READ_ONLY.has(key)) continue;
    // Names are case-insensitive to the service.
    const canonical =
      key === "name" && typeof value === "string" ? value.toLowerCase() : canonicalValue(key, value, checked);
    if (canonical !== undefined) out[key] = canonical;
  }
  return out;
}

/**
 * A collection's priority, or undefined when it has none. Azure's REST spec makes it optional, so a
 * foreign collection (or one written by hand) may lack it; the app's own always carry one. A JSON
 * null or a non-number is read as none rather than trusted.
 */
export function collectionPriority(collection: Pick<RuleCollection, "priority">): number | undefined {
  const priority: unknown = collection.priority;
  return typeof priority === "number" && Number.isFinite(priority) ? priority : undefined;
}

/**
 * The order of collections within a group: ascending priority, a collection without one after every
 * collection with one. The service documents no place for such a collection, so it is taken as the
 * lowest precedence (processed last); the order is only used to list and compare, never to decide
 * what is written. Ties (and two without a priority) compare as equal: callers break them by name.
 */
export function byCollectionPriority(a: number | undefined, b: number | undefined): number {
  if (a === undefined) return b === undefined ? 0 : 1;
  if (b === undefined) return -1;
  return a - b;
}

export function normaliseCollection(collection: RuleCollection): CanonicalCollection {
  return canonicalCollection(collection);
}

function canonicalCollection(collection: RuleCollection, checked?: Checked): CanonicalCollection {
  const action = collection.action?.type ?? "";
  const priority = collectionPriority(collection);
  return {
    name: collection.name.toLowerCase(),
    ...(priority === undefined ? {} : { priority }),
    ruleCollectionType: collection.ruleCollectionType,
    action: ACTIONS[action.toLowerCase()] ?? action,
    rules: (collection.rules ?? [])
      .map((rule) => canonicalRule(rule, checked))
      .sort((a, b) => byText(ruleKey(a), ruleKey(b))),
  };
}

export function normaliseGroup(group: RuleCollectionGroup): CanonicalGroup {
  return canonicalGroup(group);
}

function canonicalGroup(group: RuleCollectionGroup, checked?: Checked): CanonicalGroup {
  return {
    name: group.name.toLowerCase(),
    priority: group.priority,
    ruleCollections: group.ruleCollections
      .map((collection) => canonicalCollection(collection, checked))
      .sort((a, b) => byCollectionPriority(a.priority, b.priority) || byText(a.name, b.name)),
  };
}

function ruleKey(rule: CanonicalRule): string {
  const name = rule.name;
  return typeof name === "string" ? name : "";
}

/**
 * True when the two would make the firewall behave the same. A group that does not exist equals an
 * empty one: with no cluster to serve, none is created.
 */
export function sameGroup(current: RuleCollectionGroup | undefined, desired: RuleCollectionGroup): boolean {
  if (current === undefined) return desired.ruleCollections.length === 0;
  return canonicalJson(normaliseGroup(current)) === canonicalJson(normaliseGroup(desired));
}

/** A group's canonical form and its text, with each collection's and rule's text kept for the diff. */
export interface CanonicalText {
  group: CanonicalGroup;
  /** canonicalJson(normaliseGroup(group)), built from the parts below (each rule serialised once). */
  text: string;
  /**
   * The text in pieces (a list's text, what comes between lists, or between rules), in order: hashed
   * piece by piece, the text of a large group is never copied into one string.
   */
  pieces: readonly string[];
  /** By lower-cased collection name. */
  collections: Map<string, CollectionText>;
  /**
   * JSON.stringify of each list of strings in the rules, by the list: a canonical list is the
   * group's own (see alreadyCanonical), so rulesSize can reuse the text of the app's source lists.
   */
  lists: ReadonlyMap<readonly unknown[], string>;
}

export interface CollectionText {
  canonical: CanonicalCollection;
  text: string;
  /** Each rule's canonical text, by lower-cased rule name. */
  rules: Map<string, string>;
}

/**
 * Normalises and serialises the group once: planning compares, diffs and hashes from this, so no
 * rule is normalised or serialised twice in one plan. The text is exactly
 * canonicalJson(normaliseGroup(group)) (keys in byText order: action, name, priority,
 * ruleCollectionType, rules), which the tests check.
 */
export function canonicalText(
  group: RuleCollectionGroup,
  known?: ReadonlyMap<readonly string[], { text: string; canonical: boolean }>,
): CanonicalText {
  const checked: Checked = new Map();
  const lists = new Map<readonly unknown[], string>();
  // Source lists whose text and canonicality are known already (list-facts.ts): not checked or
  // serialised again.
  if (known !== undefined)
    for (const [list, facts] of known) {
      lists.set(list, facts.text);
      if (facts.canonical) checked.set(list, "sourceAddresses");
    }
  const canonical = canonicalGroup(group, checked);
  const collections: CanonicalText["collections"] = new Map();
  // Texts are joined with `+`, which links strings rather than copying them.
  const pieces = [
    `{"name":${JSON.stringify(canonical.name)},"priority":${JSON.stringify(canonical.priority)},"ruleCollections":[`,
  ];
  canonical.ruleCollections.forEach((c, i) => {
    const priority = c.priority === undefined ? "" : `,"priority":${JSON.stringify(c.priority)}`;
    const type =
      c.ruleCollectionType === undefined
        ? ""
        : `,"ruleCollectionType":${JSON.stringify(c.ruleCollectionType)}`;
    const head = `{"action":${JSON.stringify(c.action)},"name":${JSON.stringify(c.name)}${priority}${type},"rules":[`;
    pieces.push(i === 0 ? head : `,${head}`);
    const rules = new Map<string, string>();
    let text = head;
    c.rules.forEach((r, j) => {
      if (j > 0) pieces.push(",");
      const rule = ruleText(r, lists, pieces);
      rules.set(typeof r.name === "string" ? r.name : "", rule);
      text = j === 0 ? text + rule : `${text},${rule}`;
    });
    pieces.push("]}");
    collections.set(c.name, { canonical: c, text: `${text}]}`, rules });
  });
  pieces.push("]}");
  let text = "";
  for (const piece of pieces) text += piece;
  return { group: canonical, text, pieces, collections, lists };
}

/** Keys an object lists first, in numeric order, whatever order they were added in. */
const INDEX_KEY = /^(0|[1-9][0-9]*)$/;

/**
 * canonicalJson(rule), with each list of strings serialised once per group: the app's rules share
 * their source lists (canonicalList keeps a canonical list as it is), and those lists are most of
 * the text. Also adds the text to `pieces`, each list's text a piece of its own (the very string
 * `lists` holds), so that two texts built from the same lists compare piece by piece cheaply.
 */
function ruleText(rule: CanonicalRule, lists: Map<readonly unknown[], string>, pieces: string[]): string {
  const keys = Object.keys(rule).sort(byText);
  if (keys.some((key) => INDEX_KEY.test(key))) {
    const whole = canonicalJson(rule);
    pieces.push(whole);
    return whole;
  }
  let text = "";
  // What is not yet in `pieces`.
  let pending = "{";
  for (const key of keys) {
    const value = rule[key];
    const part =
      (Array.isArray(value) ? lists.get(value) : undefined) ??
      (isStringList(value) ? listText(value, lists) : canonicalJson(value));
    // What JSON.stringify leaves out of an object (undefined) is left out here too.
    if (part === undefined) continue;
    const head = `${text === "" ? "" : ","}${JSON.stringify(key)}:`;
    text += head + part;
    if (Array.isArray(value)) {
      pieces.push(pending + head, part);
      pending = "";
    } else pending += head + part;
  }
  pieces.push(`${pending}}`);
  return `{${text}}`;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && !("toJSON" in value) && value.every((v) => typeof v === "string");
}

function listText(list: readonly string[], lists: Map<readonly unknown[], string>): string {
  let text = lists.get(list);
  if (text === undefined) {
    text = JSON.stringify(list);
    lists.set(list, text);
  }
  return text;
}
