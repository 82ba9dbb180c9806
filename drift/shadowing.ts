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
// "Matching" needs overlapping sources, protocol, port and destination. Deny rules whose reach cannot
// be known offline (IP group sources are assumed to overlap; FQDN tags, web categories, URLs, IP group
// or service tag destinations against host names are not matched) are left out rather than guessed.
import { byText } from "./canonical";
import { ownerOf } from "./naming";
import { anyAddressOverlap, anyHostOverlap, anyPortOverlap, protocolsOverlap } from "./overlap";
import type { Finding, RuleBody, RuleCollectionGroup } from "./types";

interface Located {
  groupName: string;
  groupPriority: number;
  collectionName: string;
  rule: RuleBody;
}

function list(rule: RuleBody, field: string): string[] {
  const value = (rule as Readonly<Record<string, unknown>>)[field];
  return Array.isArray(value)
    ? value.filter((v): v is string | number => typeof v === "string" || typeof v === "number").map(String)
    : [];
}

function appProtocols(rule: RuleBody): { type: string; port: string }[] {
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

function sourcesOverlap(ours: RuleBody, deny: RuleBody): boolean {
  // IP group contents are not in the snapshot: assume they may hold the nodes.
  if (list(deny, "sourceIpGroups").length > 0) return true;
  return anyAddressOverlap(list(ours, "sourceAddresses"), list(deny, "sourceAddresses"));
}

/** Our application rule's traffic is TCP to its hosts on its ports, which a network Deny sees first. */
function networkDenyHitsApplication(ours: RuleBody, deny: RuleBody): boolean {
  const ports = appProtocols(ours).map((p) => p.port);
  return (
    protocolsOverlap(["TCP"], list(deny, "ipProtocols")) &&
    anyPortOverlap(ports, list(deny, "destinationPorts")) &&
    (list(deny, "destinationAddresses").includes("*") ||
      anyHostOverlap(list(ours, "targetFqdns"), list(deny, "destinationFqdns"))) &&
    sourcesOverlap(ours, deny)
  );
}

function applicationDenyHitsApplication(ours: RuleBody, deny: RuleBody): boolean {
  const theirs = appProtocols(deny);
  return (
    appProtocols(ours).some((p) => theirs.some((q) => q.type === p.type && q.port === p.port)) &&
    anyHostOverlap(list(ours, "targetFqdns"), list(deny, "targetFqdns")) &&
    sourcesOverlap(ours, deny)
  );
}

function networkDenyHitsNetwork(ours: RuleBody, deny: RuleBody): boolean {
  const denyAddresses = list(deny, "destinationAddresses");
  return (
    protocolsOverlap(list(ours, "ipProtocols"), list(deny, "ipProtocols")) &&
    anyPortOverlap(list(ours, "destinationPorts"), list(deny, "destinationPorts")) &&
    (denyAddresses.includes("*") ||
      anyAddressOverlap(list(ours, "destinationAddresses"), denyAddresses) ||
      anyHostOverlap(list(ours, "destinationFqdns"), list(deny, "destinationFqdns"))) &&
    sourcesOverlap(ours, deny)
  );
}

function denyRules(groups: readonly RuleCollectionGroup[]): Located[] {
  return groups.flatMap((group) =>
    group.ruleCollections
      .filter((c) => c.action?.type.toLowerCase() === "deny")
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

/** Findings for every Deny outside `managed` that precedes and matches rules of `managed`. */
export function findShadowing(
  managed: RuleCollectionGroup,
  others: readonly RuleCollectionGroup[],
): Finding[] {
  const ours = managed.ruleCollections
    .filter((c) => c.action?.type.toLowerCase() === "allow")
    .flatMap((c) => (c.rules ?? []).map((rule) => ({ collection: c.name, rule })));
  const hits = new Map<
    string,
    { deny: Located; clusterId: string | undefined; rules: string[]; why: Set<string> }
  >();

  for (const deny of denyRules(others)) {
    const sameTypeFirst = deny.groupPriority <= managed.priority;
    const order =
      deny.groupPriority < managed.priority
        ? `its group priority ${deny.groupPriority} comes before the managed group's ${managed.priority}`
        : `its group has the managed group's priority ${managed.priority}, and which of the two is processed first is not defined`;
    for (const { collection, rule } of ours) {
      let why: string | undefined;
      if (rule.ruleType === "ApplicationRule" && deny.rule.ruleType === "NetworkRule") {
        if (networkDenyHitsApplication(rule, deny.rule))
          why = "network rules are processed before application rules";
      } else if (
        sameTypeFirst &&
        rule.ruleType === "ApplicationRule" &&
        deny.rule.ruleType === "ApplicationRule"
      ) {
        if (applicationDenyHitsApplication(rule, deny.rule)) why = order;
      } else if (sameTypeFirst && rule.ruleType === "NetworkRule" && deny.rule.ruleType === "NetworkRule") {
        if (networkDenyHitsNetwork(rule, deny.rule)) why = order;
      }
      if (why === undefined) continue;
      const clusterId = ownerOf(rule.description);
      const key = `${deny.groupName}/${deny.collectionName}/${deny.rule.name}\n${clusterId ?? ""}`;
      const hit = hits.get(key) ?? { deny, clusterId, rules: [], why: new Set<string>() };
      hit.rules.push(`${collection}/${rule.name}`);
      hit.why.add(why);
      hits.set(key, hit);
    }
  }

  return [...hits.entries()]
    .sort(([a], [b]) => byText(a, b))
    .map(([, hit]) => {
      const location = `${hit.deny.groupName}/${hit.deny.collectionName}/${hit.deny.rule.name}`;
      const count = hit.rules.length === 1 ? "1 required rule" : `${hit.rules.length} required rules`;
      const finding: Finding = {
        code: "SHADOWED_BY_DENY",
        severity: "warning",
        message: `Deny rule ${location} is processed before, and matches traffic allowed by, ${count} of the cluster (${[...hit.why].join("; ")}): ${hit.rules.join(", ")}.`,
        location,
      };
      if (hit.clusterId !== undefined) finding.clusterId = hit.clusterId;
      return finding;
    });
}
