// findShadowing is indexed and deduplicated for speed; its findings must stay byte-identical to the
// straightforward scan of every Deny rule against every managed rule. That scan is kept below as the
// oracle (the algorithm as it was) and both run on seeded random policies built to hit the corners:
// wildcards, "*", CIDRs and ranges, service tags, port ranges, protocol case, IP groups, group
// priority ties, and Deny rules that share a location.
import { describe, expect, it } from "vitest";
import {
  desiredGroup,
  type Finding,
  findShadowing,
  type RuleBody,
  type RuleCollection,
  type RuleCollectionGroup,
} from "../../drift";
import { byText } from "../../drift/canonical";
import { ownedDescription, ownerOf } from "../../drift/naming";
import { anyAddressOverlap, anyHostOverlap, anyPortOverlap, protocolsOverlap } from "../../drift/overlap";
import { shadowedMessage } from "../../drift/shadowing";
import { cluster, clusterId, settings } from "./fixtures";

// ---- The oracle: drift/shadowing.ts before indexing, unchanged but for its name. ----

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
  if (list(deny, "sourceIpGroups").length > 0) return true;
  return anyAddressOverlap(list(ours, "sourceAddresses"), list(deny, "sourceAddresses"));
}

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

function referenceShadowing(managed: RuleCollectionGroup, others: readonly RuleCollectionGroup[]): Finding[] {
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
      // The wording is shared with drift/shadowing.ts; what the oracle checks is which rules match.
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

// ---- Seeded random policies. ----

/** Numerical Recipes' LCG: the same cases on every run and machine. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const some = <T>(items: readonly T[], max: number): T[] =>
    Array.from({ length: 1 + int(max) }, () => pick(items));
  return { int, pick, some, chance: (p: number) => next() < p };
}
type Random = ReturnType<typeof random>;

const HOSTS = [
  "*",
  "*.microsoft.com",
  "*microsoft.com",
  "microsoft.com",
  "mcr.microsoft.com",
  " MCR.Microsoft.com ",
  "*.data.mcr.microsoft.com",
  "x.data.mcr.microsoft.com",
  "*.com",
  "ntp.ubuntu.com",
  "*.ubuntu.com",
  "security.ubuntu.com",
  "example.org",
  "*ample.org",
  "*.hcp.westeurope.azmk8s.io",
  "abc.hcp.westeurope.azmk8s.io",
  "",
  "*.",
  "**.com",
];
const ADDRESSES = [
  "*",
  " * ",
  "10.0.0.0/8",
  "10.1.0.0/22",
  "10.1.2.3",
  "10.1.0.0-10.1.3.255",
  "192.168.0.0/16",
  "172.16.0.1",
  "AzureCloud",
  "AzureCloud.westeurope",
  "azurecloud.WestEurope",
  "Storage",
  "Storage.westeurope",
  "10.0.0.0/33",
  "0.0.0.0/0",
];
const SOURCES = ["10.1.0.0/22", "10.2.0.0/22", "10.2.1.0/24", "192.168.1.0/24", "10.0.0.0/8", "*"];
const PORTS: (string | number)[] = [
  "443",
  "80",
  "*",
  "1-1000",
  "400-500",
  "9000",
  "8000-9000",
  "123",
  "1194",
  "65535",
  "x",
  " 443 ",
  "500-400",
  443,
  "0",
];
const IP_PROTOCOLS = ["TCP", "UDP", "ICMP", "Any", "tcp", "any"];
/** Ours name one protocol more often than not, so that a Deny's protocol makes a difference. */
const ipProtocols = (rng: Random) =>
  rng.chance(0.8) ? [rng.pick(["TCP", "UDP", "ICMP", "udp"])] : rng.some(IP_PROTOCOLS, 2);
const APP_PROTOCOLS: unknown[] = [
  { protocolType: "Https", port: 443 },
  { protocolType: "Http", port: 80 },
  { protocolType: "Http", port: 443 },
  { protocolType: "Mssql", port: 1433 },
  { protocolType: "https", port: 443 },
  { protocolType: "Https", port: "443" },
  { protocolType: "Https", port: 8443 },
  { protocolType: "Https" },
  null,
];
const NAMES = ["d", "e", "f", "deny-all"];

/** A Deny-side rule (or one that only looks like one); fields are sometimes missing. */
function foreignRule(rng: Random): RuleBody {
  const name = rng.pick(NAMES);
  const sources = rng.chance(0.8) ? { sourceAddresses: rng.some([...SOURCES, "172.16.0.0/12"], 2) } : {};
  const ipGroups = rng.chance(0.15) ? { sourceIpGroups: ["/x/ipGroups/g"] } : {};
  const kind = rng.int(10);
  if (kind < 5) {
    const destination = rng.int(4);
    return {
      ruleType: "NetworkRule",
      name,
      ipProtocols: rng.some(IP_PROTOCOLS, 2),
      ...sources,
      ...ipGroups,
      ...(destination !== 1 ? { destinationAddresses: rng.some(ADDRESSES, 2) } : {}),
      ...(destination >= 1 ? { destinationFqdns: rng.some(HOSTS, 2) } : {}),
      ...(rng.chance(0.1) ? { destinationIpGroups: ["/x/ipGroups/h"] } : {}),
      destinationPorts: rng.some(PORTS, 2),
    } as RuleBody;
  }
  if (kind < 9) {
    return {
      ruleType: "ApplicationRule",
      name,
      ...sources,
      ...ipGroups,
      protocols: rng.some(APP_PROTOCOLS, 2),
      ...(rng.chance(0.9) ? { targetFqdns: rng.some(HOSTS, 3) } : { webCategories: ["Gambling"] }),
    } as RuleBody;
  }
  return { ruleType: "NatRule", name, sourceAddresses: ["*"], destinationPorts: ["443"] };
}

function foreignGroups(rng: Random, managedPriority: number): RuleCollectionGroup[] {
  return Array.from({ length: 1 + rng.int(4) }, (_, g) => ({
    // Shared names: two Deny rules may share a location and so one finding.
    name: rng.pick(["team", "baseline", `g${g}`]),
    priority: rng.pick([managedPriority - 100, managedPriority, managedPriority + 100, 100]),
    ruleCollections: Array.from({ length: 1 + rng.int(3) }, (_, c) => {
      const collection: RuleCollection = {
        ruleCollectionType: "FirewallPolicyFilterRuleCollection",
        name: rng.pick(["c", `c${c}`]),
        priority: 100 + c,
        rules: Array.from({ length: rng.int(6) }, () => foreignRule(rng)),
      };
      const action = rng.pick(["Deny", "Deny", "deny", "Allow", "DNAT", undefined]);
      if (action !== undefined) collection.action = { type: action };
      return collection;
    }),
  }));
}

/** The rule with one field that decides matching changed (what a hand edit does). */
function edited(rng: Random, t: RuleBody, name: string): RuleBody {
  const pools: Record<string, readonly unknown[]> =
    t.ruleType === "ApplicationRule"
      ? { protocols: APP_PROTOCOLS, targetFqdns: HOSTS }
      : {
          ipProtocols: IP_PROTOCOLS,
          destinationPorts: PORTS,
          destinationAddresses: ADDRESSES,
          destinationFqdns: HOSTS,
        };
  // A rule of another type with the same fields never matches.
  if (rng.chance(0.05)) return { ...t, name, ruleType: "NatRule" };
  const field = rng.pick(Object.keys(pools));
  const value = field === "ipProtocols" ? ipProtocols(rng) : rng.some(pools[field] ?? [], 2);
  return { ...t, name, [field]: value } as RuleBody;
}

/**
 * Rule templates that repeat across clusters, as the catalog's do, with the cluster's sources; some
 * differ from another in one field only, under another name or the same one, so that no field may
 * be left out of what rules are taken to share.
 */
function templates(rng: Random): RuleBody[] {
  const made = Array.from({ length: 2 + rng.int(6) }, (_, i) =>
    rng.chance(0.55)
      ? ({
          ruleType: "ApplicationRule",
          name: `app-${i}`,
          protocols: rng.some(APP_PROTOCOLS.slice(0, 7), 2),
          targetFqdns: rng.some(HOSTS, 2),
        } as RuleBody)
      : ({
          ruleType: "NetworkRule",
          name: `net-${i}`,
          ipProtocols: ipProtocols(rng),
          ...(rng.chance(0.6)
            ? { destinationAddresses: rng.some(ADDRESSES, 2) }
            : { destinationFqdns: rng.some(HOSTS, 2) }),
          destinationPorts: rng.some(PORTS, 2),
        } as RuleBody),
  );
  const variants = made.flatMap((t, i) =>
    rng.chance(0.5) ? [edited(rng, t, rng.chance(0.5) ? t.name : `${t.name}-v${i}`)] : [],
  );
  return [...made, ...variants];
}

/** A managed group written by hand: templated rules per cluster, owners named or not. */
function syntheticManaged(rng: Random): RuleCollectionGroup {
  const shared = templates(rng);
  const ruleCollections: RuleCollection[] = [];
  for (let k = 0; k < 1 + rng.int(8); k++) {
    const owner = rng.pick([
      () => ownedDescription(clusterId(`c${k}`), "needed"),
      () => ownedDescription(clusterId(`c${rng.int(3)}`), "needed"),
      () => "no owner named",
      () => undefined,
    ])();
    const sourceAddresses = rng.some(SOURCES, 2);
    const rules = shared
      .filter(() => rng.chance(0.85))
      // Now and then one cluster's copy is edited by hand, keeping its name.
      .map((t) => (rng.chance(0.1) ? edited(rng, t, t.name) : t))
      .map((t) => {
        const rule = { ...t, sourceAddresses } as RuleBody;
        if (owner !== undefined) rule.description = owner;
        return rule;
      });
    if (rng.chance(0.2)) rules.push(...templates(rng).slice(0, 1));
    ruleCollections.push({
      ruleCollectionType: "FirewallPolicyFilterRuleCollection",
      name: `aks-c${k}-${rng.pick(["app", "net"])}`,
      priority: 100 + k,
      action: { type: rng.pick(["Allow", "Allow", "allow", "Deny"]) },
      rules,
    });
  }
  return { name: "aks-egress-guard", priority: rng.pick([200, 500]), ruleCollections };
}

/** The managed group as the app renders it, for a few random clusters. */
function renderedManaged(rng: Random): RuleCollectionGroup {
  const features = ["gpu", "azure-monitor", "azure-policy", "windows", "ubuntu-updates", "defender"] as const;
  const clusters = Array.from({ length: 1 + rng.int(4) }, (_, k) =>
    cluster(`r${k}`, {
      region: rng.pick(["westeurope", "northeurope", "eastus2"]),
      features: [...new Set(rng.some(features, 3))],
      nodeSubnets: rng.some(SOURCES.slice(0, 5), 2),
    }),
  );
  const priority = rng.pick([200, 500]);
  return desiredGroup(clusters, undefined, { ...settings, groupPriority: priority }).group;
}

describe("findShadowing equals the pairwise scan", () => {
  it("on 800 seeded random policies", () => {
    let withFindings = 0;
    let gathered = 0;
    for (let seed = 1; seed <= 800; seed++) {
      const rng = random(seed);
      const managed = seed % 3 === 0 ? renderedManaged(rng) : syntheticManaged(rng);
      const others = foreignGroups(rng, managed.priority);
      const expected = JSON.stringify(referenceShadowing(managed, others));
      expect(JSON.stringify(findShadowing(managed, others)), `seed ${seed}`).toBe(expected);
      const findings = JSON.parse(expected) as Finding[];
      if (findings.length > 0) withFindings++;
      gathered += findings.filter((f) => / \d+ required rules /.test(f.message)).length;
    }
    // The cases must exercise matches, not only agree on finding nothing.
    expect(withFindings).toBeGreaterThan(300);
    expect(gathered).toBeGreaterThan(100);
  });
});
