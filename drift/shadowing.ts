// Deny rules outside the managed group that would stop traffic a cluster needs. Reported, never
// changed: nothing outside the managed group is ever written (DESIGN §3 "Ownership").
//
// How the firewall orders rules (Azure docs, azure-notes §2): all network rules before all
// application rules; within a type, by group priority, then collection priority; first match wins.
// Approximated here as:
// - one of our application rules is shadowed by a matching network Deny in ANY group, and by a
//   matching application Deny in a group whose priority number is lower than or equal to ours;
// - one of our network rules is shadowed by a matching network Deny in such a group only.
// A tie in group priority is reported (the service does not define which group goes first).
// Collection priorities are not used: our rules and a Deny rule are never in one group (nothing
// outside the managed group is read as ours), so the group order decides. A collection without a
// priority (optional in Azure's REST spec) or without an action type is read like any other, never a
// reason to fail the check.
// "Matching" needs overlapping sources, protocol, port and destination. Deny rules whose reach cannot
// be known offline (IP group sources are assumed to overlap; FQDN tags, web categories, URLs, IP group
// or service tag destinations against host names are not matched) are left out rather than guessed.
//
// Scale: the managed group holds the same few rules once per cluster, differing in their sources. So
// each distinct rule shape (type, destinations, protocols, ports) is matched once against the Deny
// rules an index says can overlap it, and only sources are then compared per rule (memoised per
// source list). Matches are replayed in Deny-then-rule order, so findings are as a pairwise scan's.
import { byText } from "./canonical";
import { ownerOf } from "./naming";
import { anyAddressOverlap, anyHostOverlap, anyPortOverlap, portRange, protocolsOverlap } from "./overlap";
import {
  collectHosts,
  collectPorts,
  type HostIndex,
  hostIndex,
  type PortIndex,
  portIndex,
} from "./shadowing-index";
import type { Finding, RuleBody, RuleCollection, RuleCollectionGroup } from "./types";

/** The collection's action, lower-cased; "" when the service returned none (foreign collections). */
function actionOf(collection: RuleCollection): string {
  const type: unknown = collection.action?.type;
  return typeof type === "string" ? type.toLowerCase() : "";
}

interface Located {
  groupName: string;
  groupPriority: number;
  collectionName: string;
  rule: RuleBody;
}

interface AppProtocol {
  type: string;
  port: string;
}

function list(rule: RuleBody, field: string): string[] {
  const value = (rule as Readonly<Record<string, unknown>>)[field];
  return Array.isArray(value)
    ? value.filter((v): v is string | number => typeof v === "string" || typeof v === "number").map(String)
    : [];
}

function appProtocols(rule: RuleBody): AppProtocol[] {
  const value = (rule as Readonly<Record<string, unknown>>).protocols;
  if (!Array.isArray(value)) return [];
  return value.flatMap((p: unknown) => {
    if (p === null || typeof p !== "object") return [];
    const { protocolType, port } = p as { protocolType?: unknown; port?: unknown };
    return typeof protocolType === "string" && (typeof port === "number" || typeof port === "string")
      ? [{ type: protocolType.toLowerCase(), port: String(port) }]
      : [];
  });
}

/** A Deny rule with its fields read once, not once per managed rule. */
interface Deny {
  located: Located;
  /** Whether it can shadow a rule of its own type (its group is not after ours). */
  sameTypeFirst: boolean;
  /** Why it comes first when it does shadow a rule of its own type. */
  order: string;
  ipProtocols: string[];
  destinationPorts: string[];
  destinationAddresses: string[];
  destinationFqdns: string[];
  targetFqdns: string[];
  protocols: AppProtocol[];
  sourceAddresses: string[];
  sourceIpGroups: boolean;
}

/** What a managed rule's match depends on apart from its sources: one per rule of the catalog. */
interface Shape {
  ruleType: "ApplicationRule" | "NetworkRule";
  ipProtocols: string[];
  destinationPorts: string[];
  destinationAddresses: string[];
  destinationFqdns: string[];
  targetFqdns: string[];
  protocols: AppProtocol[];
}

const NETWORK_FIRST = "network rules are processed before application rules";

function sourcesOverlap(ours: readonly string[], deny: Deny): boolean {
  // IP group contents are not in the snapshot: assume they may hold the nodes.
  if (deny.sourceIpGroups) return true;
  return anyAddressOverlap(ours, deny.sourceAddresses);
}

/** Our application rule's traffic is TCP to its hosts on its ports, which a network Deny sees first. */
function networkDenyHitsApplication(ours: Shape, deny: Deny): boolean {
  return (
    protocolsOverlap(["TCP"], deny.ipProtocols) &&
    anyPortOverlap(
      ours.protocols.map((p) => p.port),
      deny.destinationPorts,
    ) &&
    (deny.destinationAddresses.includes("*") || anyHostOverlap(ours.targetFqdns, deny.destinationFqdns))
  );
}

function applicationDenyHitsApplication(ours: Shape, deny: Deny): boolean {
  return (
    ours.protocols.some((p) => deny.protocols.some((q) => q.type === p.type && q.port === p.port)) &&
    anyHostOverlap(ours.targetFqdns, deny.targetFqdns)
  );
}

function networkDenyHitsNetwork(ours: Shape, deny: Deny): boolean {
  return (
    protocolsOverlap(ours.ipProtocols, deny.ipProtocols) &&
    anyPortOverlap(ours.destinationPorts, deny.destinationPorts) &&
    (deny.destinationAddresses.includes("*") ||
      anyAddressOverlap(ours.destinationAddresses, deny.destinationAddresses) ||
      anyHostOverlap(ours.destinationFqdns, deny.destinationFqdns))
  );
}

function denyRules(groups: readonly RuleCollectionGroup[]): Located[] {
  return groups.flatMap((group) =>
    group.ruleCollections
      .filter((c) => actionOf(c) === "deny")
      .flatMap((c) =>
        (c.rules ?? []).map((rule) => ({
          groupName: group.name,
          groupPriority: group.priority,
          collectionName: c.name,
          rule,
        })),
      ),
  );
}

function readDeny(located: Located, managedPriority: number): Deny {
  const { groupPriority, rule } = located;
  return {
    located,
    sameTypeFirst: groupPriority <= managedPriority,
    order:
      groupPriority < managedPriority
        ? `its group priority ${groupPriority} comes before the managed group's ${managedPriority}`
        : `its group has the managed group's priority ${managedPriority}, and which of the two is processed first is not defined`,
    ipProtocols: list(rule, "ipProtocols"),
    destinationPorts: list(rule, "destinationPorts"),
    destinationAddresses: list(rule, "destinationAddresses"),
    destinationFqdns: list(rule, "destinationFqdns"),
    targetFqdns: list(rule, "targetFqdns"),
    protocols: appProtocols(rule),
    sourceAddresses: list(rule, "sourceAddresses"),
    sourceIpGroups: list(rule, "sourceIpGroups").length > 0,
  };
}

function portRanges(ports: readonly string[]): (readonly [number, number])[] {
  return ports.map(portRange).filter((r) => r !== undefined);
}

/** Compared as applicationDenyHitsApplication compares: type and port, both as text. */
function protocolKey(p: AppProtocol): string {
  return JSON.stringify([p.type, p.port]);
}

interface DenyIndex {
  denies: Deny[];
  /** Network Deny rules by upper-cased IP protocol ("ANY" meets every protocol), then port. */
  network: Map<string, PortIndex>;
  /** Application Deny rules by (protocol, port), then host. */
  application: Map<string, HostIndex>;
}

function indexDenies(denies: Deny[]): DenyIndex {
  const network = new Map<string, { deny: number; ranges: (readonly [number, number])[] }[]>();
  const application = new Map<string, { deny: number; hosts: string[] }[]>();
  denies.forEach((deny, i) => {
    const type = deny.located.rule.ruleType;
    if (type === "NetworkRule") {
      const ranges = portRanges(deny.destinationPorts);
      for (const p of new Set(deny.ipProtocols.map((p) => p.toUpperCase()))) {
        const at = network.get(p) ?? [];
        at.push({ deny: i, ranges });
        network.set(p, at);
      }
    } else if (type === "ApplicationRule") {
      for (const key of new Set(deny.protocols.map(protocolKey))) {
        const at = application.get(key) ?? [];
        at.push({ deny: i, hosts: deny.targetFqdns });
        application.set(key, at);
      }
    }
  });
  return {
    denies,
    network: new Map([...network].map(([p, entries]) => [p, portIndex(entries)])),
    application: new Map([...application].map(([key, entries]) => [key, hostIndex(entries)])),
  };
}

/** Network Deny rules whose protocols and ports overlap these (protocolsOverlap, anyPortOverlap). */
function networkCandidates(
  index: DenyIndex,
  protocols: readonly string[],
  ports: readonly string[],
): Set<number> {
  const found = new Set<number>();
  const ours = protocols.map((p) => p.toUpperCase());
  if (ours.length === 0) return found;
  const keys = ours.includes("ANY") ? [...index.network.keys()] : [...new Set(ours), "ANY"];
  const ranges = portRanges(ports);
  for (const key of keys) {
    const byPort = index.network.get(key);
    if (byPort !== undefined) collectPorts(byPort, ranges, found);
  }
  return found;
}

/** The Deny rules that shadow every rule of this shape whose sources they overlap, ascending. */
function shapeHits(shape: Shape, index: DenyIndex): number[] {
  const hits: number[] = [];
  const { denies } = index;
  if (shape.ruleType === "ApplicationRule") {
    const ports = shape.protocols.map((p) => p.port);
    for (const d of networkCandidates(index, ["TCP"], ports)) {
      const deny = denies[d];
      if (deny !== undefined && networkDenyHitsApplication(shape, deny)) hits.push(d);
    }
    const byHost = new Set<number>();
    for (const key of new Set(shape.protocols.map(protocolKey))) {
      const hosts = index.application.get(key);
      if (hosts !== undefined) collectHosts(hosts, shape.targetFqdns, byHost);
    }
    for (const d of byHost) {
      const deny = denies[d];
      if (deny?.sameTypeFirst && applicationDenyHitsApplication(shape, deny)) hits.push(d);
    }
  } else {
    for (const d of networkCandidates(index, shape.ipProtocols, shape.destinationPorts)) {
      const deny = denies[d];
      if (deny?.sameTypeFirst && networkDenyHitsNetwork(shape, deny)) hits.push(d);
    }
  }
  return hits.sort((a, b) => a - b);
}

/** The rule's shape and a text that is equal exactly when two shapes are. */
function shapeOf(rule: RuleBody): { key: string; shape: Shape } | undefined {
  if (rule.ruleType === "ApplicationRule") {
    const shape: Shape = {
      ruleType: rule.ruleType,
      ipProtocols: [],
      destinationPorts: [],
      destinationAddresses: [],
      destinationFqdns: [],
      targetFqdns: list(rule, "targetFqdns"),
      protocols: appProtocols(rule),
    };
    return { key: JSON.stringify(["A", shape.protocols.map(protocolKey), shape.targetFqdns]), shape };
  }
  if (rule.ruleType === "NetworkRule") {
    const shape: Shape = {
      ruleType: rule.ruleType,
      ipProtocols: list(rule, "ipProtocols"),
      destinationPorts: list(rule, "destinationPorts"),
      destinationAddresses: list(rule, "destinationAddresses"),
      destinationFqdns: list(rule, "destinationFqdns"),
      targetFqdns: [],
      protocols: [],
    };
    const { ipProtocols, destinationPorts, destinationAddresses, destinationFqdns } = shape;
    return {
      key: JSON.stringify(["N", ipProtocols, destinationPorts, destinationAddresses, destinationFqdns]),
      shape,
    };
  }
  return undefined;
}

/** The fields shapeOf reads. */
const SHAPE_FIELDS = [
  "ruleType",
  "protocols",
  "targetFqdns",
  "ipProtocols",
  "destinationPorts",
  "destinationAddresses",
  "destinationFqdns",
] as const;

/** Equal as shapeOf reads them: list() keeps strings and numbers, appProtocols protocolType and port. */
function sameItem(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  const x = a as { protocolType?: unknown; port?: unknown };
  const y = b as { protocolType?: unknown; port?: unknown };
  return x.protocolType === y.protocolType && x.port === y.port;
}

/**
 * Whether two rules have one shape, compared as stored: no allocation, unlike shapeOf's key, and
 * enough for one catalog rule repeated per cluster. It may say no to equal shapes (443 and "443"),
 * which only costs a shapeOf; it never says yes to different ones.
 */
function sameFields(a: RuleBody, b: RuleBody): boolean {
  const x = a as Readonly<Record<string, unknown>>;
  const y = b as Readonly<Record<string, unknown>>;
  for (const field of SHAPE_FIELDS) {
    const u = x[field];
    const v = y[field];
    if (u === v) continue;
    if (!Array.isArray(u) || !Array.isArray(v) || u.length !== v.length) return false;
    // Indexed, not every(): a hole must not pass for any value.
    for (let i = 0; i < u.length; i++) if (!sameItem(u[i], v[i])) return false;
  }
  return true;
}

/** What the managed rules can be met on: a Deny rule outside both cannot shadow any of them. */
interface Reachable {
  /** The port ranges of every managed rule (an application rule's are its protocols' ports). */
  ports: (readonly [number, number])[];
  /** Every protocol of a managed application rule, once each (type and port as protocolKey tells them apart). */
  protocols: AppProtocol[];
}

function reachableOf(ours: readonly { rule: RuleBody }[]): Reachable {
  const ports: string[] = [];
  const protocols: AppProtocol[] = [];
  for (const { rule } of ours) {
    if (rule.ruleType === "ApplicationRule")
      for (const p of appProtocols(rule)) {
        ports.push(p.port);
        if (!protocols.some((q) => q.type === p.type && q.port === p.port)) protocols.push(p);
      }
    else if (rule.ruleType === "NetworkRule")
      for (const port of list(rule, "destinationPorts")) ports.push(port);
  }
  return { ports: portRanges([...new Set(ports)]), protocols };
}

/**
 * Whether the Deny rule passes what every way of shadowing in shapeHits needs: a network Deny, a
 * destination port overlapping one of a managed rule's (anyPortOverlap, for application and network
 * rules alike); an application Deny, a group not after ours and a protocol equal to one of a managed
 * application rule's. A rule it would fail to read is read (and fails) as before.
 */
function mayShadow(located: Located, managedPriority: number, reachable: Reachable): boolean {
  const { rule } = located;
  if (rule === null || typeof rule !== "object") return true;
  if (rule.ruleType === "NetworkRule") {
    for (const port of list(rule, "destinationPorts")) {
      const theirs = portRange(port);
      if (theirs === undefined) continue;
      for (const ours of reachable.ports) if (ours[0] <= theirs[1] && theirs[0] <= ours[1]) return true;
    }
    return false;
  }
  if (rule.ruleType === "ApplicationRule") {
    if (!(located.groupPriority <= managedPriority)) return false;
    for (const p of appProtocols(rule))
      if (reachable.protocols.some((q) => q.type === p.type && q.port === p.port)) return true;
  }
  return false;
}

/** Representatives kept per rule name; past that, rules of the name go through shapeOf's key. */
const PER_NAME = 4;

/** Findings for every Deny outside `managed` that precedes and matches rules of `managed`. */
export function findShadowing(
  managed: RuleCollectionGroup,
  others: readonly RuleCollectionGroup[],
): Finding[] {
  const ours = managed.ruleCollections
    .filter((c) => actionOf(c) === "allow")
    .flatMap((c) => (c.rules ?? []).map((rule) => ({ collection: c.name, rule })));
  const located = denyRules(others);
  if (located.length === 0 || ours.length === 0) return [];
  // Only Deny rules that could shadow some managed rule are read and indexed (mayShadow); the others
  // would be found by no lookup. Their order is kept, which is all a position here stands for.
  const reachable = reachableOf(ours);
  const denies: Deny[] = [];
  for (const deny of located)
    if (mayShadow(deny, managed.priority, reachable)) denies.push(readDeny(deny, managed.priority));
  if (denies.length === 0) return [];
  const index = indexDenies(denies);

  // Matching rules (positions in `ours`, ascending) by Deny rule position.
  const matched = new Map<number, number[]>();
  const hitsByShape = new Map<string, number[]>();
  // Rules of one name are nearly always one catalog rule: compared field by field first.
  const byName = new Map<string, { rule: RuleBody; hits: number[] }[]>();
  const sourceIds = new Map<string, number>();
  // Keyed by source list id * denies.length + Deny position.
  const sourceOverlaps = new Map<number, boolean>();
  let last: { raw: unknown; sources: string[]; id: number } = { raw: Symbol(), sources: [], id: -1 };
  const hitsOfShape = (rule: RuleBody): number[] => {
    const shaped = shapeOf(rule);
    if (shaped === undefined) return [];
    const known = hitsByShape.get(shaped.key);
    if (known !== undefined) return known;
    const hits = shapeHits(shaped.shape, index);
    hitsByShape.set(shaped.key, hits);
    return hits;
  };
  ours.forEach(({ rule }, r) => {
    if (rule.ruleType !== "ApplicationRule" && rule.ruleType !== "NetworkRule") return;
    const seen = byName.get(rule.name) ?? [];
    let candidates = seen.find((s) => sameFields(s.rule, rule))?.hits;
    if (candidates === undefined) {
      candidates = hitsOfShape(rule);
      if (seen.length < PER_NAME) byName.set(rule.name, [...seen, { rule, hits: candidates }]);
    }
    if (candidates.length === 0) return;
    // A cluster's rules share one sources array (render-group.ts): read and keyed once for them all.
    const raw = (rule as Readonly<Record<string, unknown>>).sourceAddresses;
    if (raw !== last.raw) {
      const sources = list(rule, "sourceAddresses");
      const sourceKey = JSON.stringify(sources);
      const id = sourceIds.get(sourceKey) ?? sourceIds.size;
      sourceIds.set(sourceKey, id);
      last = { raw, sources, id };
    }
    const { sources, id: sourceId } = last;
    for (const d of candidates) {
      const deny = denies[d];
      if (deny === undefined) continue;
      const memo = sourceId * denies.length + d;
      let overlap = sourceOverlaps.get(memo);
      if (overlap === undefined) {
        overlap = sourcesOverlap(sources, deny);
        sourceOverlaps.set(memo, overlap);
      }
      if (!overlap) continue;
      const rules = matched.get(d);
      if (rules === undefined) matched.set(d, [r]);
      else rules.push(r);
    }
  });

  // Replayed in the order of a scan of every Deny rule, then every rule of ours: a finding's rules
  // and reasons come out in the same order, also when two Deny rules share a location.
  const hits = new Map<
    string,
    { deny: Located; clusterId: string | undefined; rules: string[]; why: Set<string> }
  >();
  // A rule met by several Deny rules is named and owned once; a Deny rule's rules are gathered by
  // owner before they are keyed, as the key is long.
  const named = new Map<number, { clusterId: string | undefined; label: string; application: boolean }>();
  denies.forEach((deny, d) => {
    if (!matched.has(d)) return;
    const { located } = deny;
    const networkDeny = located.rule.ruleType === "NetworkRule";
    const byOwner = new Map<string | undefined, { rules: string[]; why: Set<string> }>();
    for (const r of matched.get(d) ?? []) {
      let own = named.get(r);
      if (own === undefined) {
        const at = ours[r];
        if (at === undefined) continue;
        own = {
          clusterId: ownerOf(at.rule.description),
          label: `${at.collection}/${at.rule.name}`,
          application: at.rule.ruleType === "ApplicationRule",
        };
        named.set(r, own);
      }
      const group = byOwner.get(own.clusterId) ?? { rules: [], why: new Set<string>() };
      group.rules.push(own.label);
      group.why.add(own.application && networkDeny ? NETWORK_FIRST : deny.order);
      byOwner.set(own.clusterId, group);
    }
    const location = `${located.groupName}/${located.collectionName}/${located.rule.name}`;
    for (const [clusterId, group] of byOwner) {
      const key = `${location}\n${clusterId ?? ""}`;
      const hit = hits.get(key) ?? { deny: located, clusterId, rules: [], why: new Set<string>() };
      for (const rule of group.rules) hit.rules.push(rule);
      for (const why of group.why) hit.why.add(why);
      hits.set(key, hit);
    }
  });

  return [...hits.entries()]
    .sort(([a], [b]) => byText(a, b))
    .map(([, hit]) => {
      const location = `${hit.deny.groupName}/${hit.deny.collectionName}/${hit.deny.rule.name}`;
      const finding: Finding = {
        code: "SHADOWED_BY_DENY",
        severity: "warning",
        message: shadowedMessage(location, hit.rules, [...hit.why], hit.clusterId),
        location,
      };
      if (hit.clusterId !== undefined) finding.clusterId = hit.clusterId;
      return finding;
    });
}

/**
 * The finding's words. A per-cluster rule names its cluster; a shared rule has no owner, so the
 * clusters that need it are those whose node subnets it lists as sources.
 */
export function shadowedMessage(
  location: string,
  rules: readonly string[],
  why: readonly string[],
  clusterId: string | undefined,
): string {
  const one = rules.length === 1;
  const count = one ? "1 required rule" : `${rules.length} required rules`;
  const whose =
    clusterId !== undefined
      ? "of the cluster"
      : `shared by the clusters whose node subnets are ${one ? "its" : "their"} sources`;
  return `Deny rule ${location} is processed before, and matches traffic allowed by, ${count} ${whose} (${why.join("; ")}): ${rules.join(", ")}.`;
}
