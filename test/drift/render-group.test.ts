import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FEATURES, loadCatalog, renderRules } from "../../catalog";
import {
  type ClusterProfile,
  clusterKey,
  desiredGroup,
  type RuleBody,
  type RuleCollectionGroup,
  sourcesOf,
} from "../../drift";
import { atomsOfRule, atomsOfRuleSet } from "../../drift/atoms";
import { isSharedRuleName, sharedCollectionName, sharedRuleName } from "../../drift/naming";
import { asRead, cluster, settings } from "./fixtures";

const rulesOf = (group: RuleCollectionGroup) => group.ruleCollections.flatMap((c) => c.rules ?? []);
const sourcesOfRule = (rule: RuleBody) => (rule as { sourceAddresses?: string[] }).sourceAddresses ?? [];

/** The atom keys a set of node subnets reaches through the group's rules. */
function reach(group: RuleCollectionGroup, subnets: readonly string[]): Set<string> {
  const atoms = new Set<string>();
  for (const rule of rulesOf(group))
    if (sourcesOfRule(rule).some((s) => s === "*" || subnets.includes(s)))
      for (const atom of atomsOfRule(rule)) atoms.add(atom.key);
  return atoms;
}

/** The atom keys a cluster's own rendering allows. */
function needed(c: ClusterProfile, dnsProxy = true): Set<string> {
  const rules = renderRules({
    catalog: loadCatalog(settings.catalogVersion),
    cloud: c.cloud,
    region: c.region,
    features: c.features,
    parameters: c.parameters,
    privateCluster: c.privateCluster,
  });
  return new Set(
    atomsOfRuleSet(rules)
      .filter((i) => dnsProxy || !(i.atom.kind === "net" && i.atom.fqdn))
      .map((i) => i.atom.key),
  );
}

describe("shared rule names", () => {
  it("name the collections aks-egress-shared-app|net, then -2, -3 past the first", () => {
    expect(sharedCollectionName("app", 0)).toBe("aks-egress-shared-app");
    expect(sharedCollectionName("net", 1)).toBe("aks-egress-shared-net-2");
  });

  it("carry the hash of exactly the atoms a rule allows, within 80 characters", () => {
    const keys = ["app|https:443|mcr.microsoft.com", "app|https:443|login.microsoftonline.com"];
    const name = sharedRuleName("app-https-443", `${"a".repeat(90)}.example.com`, keys);
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^app-https-443-a+-[0-9a-f]{8}$/);
    expect(isSharedRuleName(name, [...keys].reverse())).toBe(true);
    expect(isSharedRuleName(name, keys.slice(0, 1))).toBe(false);
    expect(isSharedRuleName(name, [])).toBe(false);
  });
});

describe("desiredGroup (shared layout)", () => {
  it("writes one Allow collection of application rules and one of network rules for all clusters", () => {
    const { group, findings } = desiredGroup(
      [cluster("prod"), cluster("gpu", { features: ["gpu"], nodeSubnets: ["10.2.0.0/24"] })],
      undefined,
      settings,
    );
    expect(findings).toEqual([]);
    expect(group.name).toBe("aks-egress-guard");
    expect(group.priority).toBe(500);
    expect(
      group.ruleCollections.map((c) => [c.name, c.priority, c.action?.type, c.ruleCollectionType]),
    ).toEqual([
      ["aks-egress-shared-app", 100, "Allow", "FirewallPolicyFilterRuleCollection"],
      ["aks-egress-shared-net", 1000, "Allow", "FirewallPolicyFilterRuleCollection"],
    ]);
    expect(group.ruleCollections[0]?.rules?.every((r) => r.ruleType === "ApplicationRule")).toBe(true);
    expect(group.ruleCollections[1]?.rules?.every((r) => r.ruleType === "NetworkRule")).toBe(true);
  });

  it("gives a rule the subnets of exactly the clusters that need it, one protocol and port per rule", () => {
    const prod = cluster("prod");
    const gpu = cluster("gpu", { features: ["gpu"], nodeSubnets: ["10.2.0.0/24"] });
    const { group } = desiredGroup([prod, gpu], undefined, settings);
    const gpuOnly = [...needed(gpu)].filter((a) => !needed(prod).has(a));
    expect(gpuOnly.length).toBeGreaterThan(0);
    for (const rule of rulesOf(group)) {
      const atoms = atomsOfRule(rule).map((a) => a.key);
      expect(new Set(atomsOfRule(rule).map((a) => `${a.protocol}:${a.port}`)).size).toBe(1);
      expect(isSharedRuleName(rule.name, atoms)).toBe(true);
      const expected = atoms.some((a) => gpuOnly.includes(a))
        ? ["10.2.0.0/24"]
        : ["10.1.0.0/22", "10.2.0.0/24"];
      expect(sourcesOfRule(rule)).toEqual(expected);
    }
  });

  it("scopes rules to the node subnets, sorted and deduplicated, even when any source is allowed", () => {
    const prod = cluster("prod", { nodeSubnets: ["10.2.0.0/24", " 10.1.0.0/22", "10.2.0.0/24"] });
    const { group } = desiredGroup([prod], undefined, { ...settings, allowAnySource: true });
    for (const rule of rulesOf(group))
      expect(rule).toMatchObject({ sourceAddresses: ["10.1.0.0/22", "10.2.0.0/24"] });
  });

  it("keeps what an unclaimed source reaches while some cluster's subnets cannot be read", () => {
    const a = cluster("a", { features: ["gpu"], nodeSubnets: ["10.7.0.0/24"] });
    const b = cluster("b");
    const before = asRead(desiredGroup([a, b], undefined, settings).group);
    const { group, findings } = desiredGroup([{ ...a, nodeSubnets: [] }, b], before, settings);
    expect(reach(group, ["10.7.0.0/24"])).toEqual(reach(before, ["10.7.0.0/24"]));
    expect(reach(group, ["10.1.0.0/22"])).toEqual(needed(b));
    expect(findings.map((f) => [f.code, f.severity, f.clusterId])).toEqual([
      ["NO_NODE_SUBNETS", "error", clusterKey(a.id)],
      ["UNCLAIMED_SOURCES_KEPT", "warning", undefined],
    ]);
    expect(rulesOf(group).some((r) => sourcesOfRule(r).includes("*"))).toBe(false);
  });

  it("removes the sources of a cluster that is gone, and says whose they were", () => {
    const a = cluster("a", { nodeSubnets: ["10.7.0.0/24"] });
    const b = cluster("b");
    const before = asRead(desiredGroup([a, b], undefined, settings).group);
    const { group, findings, clusterChanges } = desiredGroup([b], before, settings, {
      sourceOwners: new Map([["10.7.0.0/24", clusterKey(a.id)]]),
    });
    expect(rulesOf(group).some((r) => sourcesOfRule(r).includes("10.7.0.0/24"))).toBe(false);
    expect(reach(group, ["10.1.0.0/22"])).toEqual(needed(b));
    expect(findings).toEqual([
      expect.objectContaining({ code: "STALE_SOURCES", clusterId: clusterKey(a.id) }),
    ]);
    expect(findings[0]?.message).toContain("10.7.0.0/24");
    // The served cluster b loses and gains nothing.
    expect(clusterChanges.clustersAffected).toBe(0);
  });

  it("uses * only when the operator allows it, with a warning", () => {
    const { group, findings } = desiredGroup([cluster("a", { nodeSubnets: [] })], undefined, {
      ...settings,
      allowAnySource: true,
    });
    for (const rule of rulesOf(group)) expect(rule).toMatchObject({ sourceAddresses: ["*"] });
    expect(findings.map((f) => [f.code, f.severity])).toEqual([["ANY_SOURCE", "warning"]]);
  });

  it("reports what the catalog cannot resolve as info findings", () => {
    const { findings } = desiredGroup([cluster("a")], undefined, {
      ...settings,
      catalogVersion: "2020-02-29",
    });
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.code === "UNRESOLVED_REQUIREMENT" && f.severity === "info")).toBe(true);
  });

  it("leaves out FQDN network rules without DNS proxy, and omits a collection left empty", () => {
    const on = desiredGroup([cluster("a")], undefined, settings).group;
    expect(rulesOf(on).some((r) => "destinationFqdns" in r)).toBe(true);
    const off = desiredGroup([cluster("a")], undefined, settings, { dnsProxyEnabled: false });
    expect(rulesOf(off.group).some((r) => "destinationFqdns" in r)).toBe(false);
    expect(off.findings.map((f) => f.code)).toEqual(["DNS_PROXY_OFF"]);
    // A private cluster needs no tunnel rules; without its NTP rule the network collection is empty.
    const priv = desiredGroup([cluster("a", { privateCluster: true })], undefined, settings, {
      dnsProxyEnabled: false,
    });
    expect(priv.group.ruleCollections.map((c) => c.name)).toEqual(["aks-egress-shared-app"]);
  });

  it("counts a cluster listed twice (IDs differing in case) once", () => {
    const a = cluster("a");
    const once = desiredGroup([a], undefined, settings).group;
    const { group, findings } = desiredGroup([a, { ...a, id: a.id.toUpperCase() }], undefined, settings);
    expect(group).toEqual(once);
    expect(findings.map((f) => f.code)).toEqual(["DUPLICATE_CLUSTER"]);
  });

  it("keeps exactly what a cluster reaches when the catalog does not know its region", () => {
    const before = asRead(desiredGroup([cluster("a")], undefined, settings).group);
    const { group, findings } = desiredGroup([cluster("a", { region: "atlantis" })], before, settings);
    expect(reach(group, ["10.1.0.0/22"])).toEqual(reach(before, ["10.1.0.0/22"]));
    expect(findings.map((f) => [f.code, f.severity])).toEqual([["UNKNOWN_REGION", "error"]]);
  });

  it("is byte-identical whatever the order of the clusters", () => {
    const clusters = [
      cluster("c"),
      cluster("a", { features: ["gpu"] }),
      cluster("b", { nodeSubnets: ["10.9.0.0/24"] }),
    ];
    const one = JSON.stringify(desiredGroup(clusters, undefined, settings));
    const two = JSON.stringify(desiredGroup([...clusters].reverse(), undefined, settings));
    expect(two).toBe(one);
  });

  it("orders collections by priority and rules by name", () => {
    const { group } = desiredGroup(
      [cluster("b"), cluster("a", { features: ["windows"], nodeSubnets: ["10.3.0.0/24"] })],
      undefined,
      settings,
    );
    const priorities = group.ruleCollections.map((c) => c.priority);
    expect(priorities).toEqual([...priorities].sort((x, y) => x - y));
    for (const c of group.ruleCollections) {
      const names = (c.rules ?? []).map((r) => r.name);
      expect(names).toEqual([...names].sort());
    }
  });
});

const REGIONS = ["westeurope", "northeurope", "eastus", "southeastasia"] as const;
const OPTIONAL = FEATURES.filter((f) => f !== "base");

/** A fleet of 1–12 clusters, each with its own node subnets (10.<i>.<j>.0/24). */
const fleets = fc
  .array(
    fc.record({
      region: fc.constantFrom(...REGIONS),
      features: fc.subarray([...OPTIONAL]),
      privateCluster: fc.boolean(),
      subnets: fc.integer({ min: 1, max: 3 }),
    }),
    { minLength: 1, maxLength: 12 },
  )
  .map((specs) =>
    specs.map((spec, i) =>
      cluster(`c${i}`, {
        region: spec.region,
        features: spec.features,
        privateCluster: spec.privateCluster,
        nodeSubnets: Array.from({ length: spec.subnets }, (_, j) => `10.${i}.${j}.0/24`),
      }),
    ),
  );

describe("desiredGroup over random fleets", () => {
  it("lets every cluster reach exactly its own rendered atoms: nothing wider, nothing missing", () => {
    fc.assert(
      fc.property(fleets, fc.boolean(), (clusters, dnsProxy) => {
        const { group } = desiredGroup(clusters, undefined, settings, { dnsProxyEnabled: dnsProxy });
        for (const c of clusters)
          for (const subnet of c.nodeSubnets) expect(reach(group, [subnet])).toEqual(needed(c, dnsProxy));
      }),
      { numRuns: 40 },
    );
  });

  it("is deterministic and leaves no drift once written: same estate, byte-identical body", () => {
    fc.assert(
      fc.property(fleets, (clusters) => {
        const first = desiredGroup(clusters, undefined, settings);
        const again = desiredGroup([...clusters].reverse(), asRead(first.group), settings);
        expect(JSON.stringify(again.group)).toBe(JSON.stringify(first.group));
        expect(again.affectedClusters).toEqual([]);
        expect(again.migration).toBeUndefined();
      }),
      { numRuns: 30 },
    );
  });
});

/** "host Https:443" for every atom the subnets reach through the group's rules. */
function reachedItems(group: RuleCollectionGroup, subnets: readonly string[]): string[] {
  const items = new Set<string>();
  for (const rule of rulesOf(group))
    if (sourcesOfRule(rule).some((s) => s === "*" || subnets.includes(s)))
      for (const atom of atomsOfRule(rule)) items.add(`${atom.destination} ${atom.protocol}:${atom.port}`);
  return [...items].sort();
}

/** Up to 8 clusters whose node subnets come from a pool of four: shared across input classes, or not. */
const sharingFleets = fc
  .array(
    fc.record({
      region: fc.constantFrom(...REGIONS),
      features: fc.subarray([...OPTIONAL]),
      subnets: fc.subarray(["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]),
    }),
    { minLength: 1, maxLength: 8 },
  )
  .map((specs) =>
    specs.map((spec, i) =>
      cluster(`c${i}`, { region: spec.region, features: spec.features, nodeSubnets: spec.subnets }),
    ),
  );

describe("what a plan from nothing says each cluster gains", () => {
  // desiredGroup works out most clusters' reach from their input class alone: it must agree with
  // reading the rules' sources, also when subnets are shared between classes or open to "*".
  it("is exactly what its node subnets reach in the group written", () => {
    fc.assert(
      fc.property(sharingFleets, fc.boolean(), (clusters, allowAnySource) => {
        const { group, clusterChanges } = desiredGroup(clusters, undefined, { ...settings, allowAnySource });
        for (const c of clusters) {
          const sources = sourcesOf(c);
          if (sources.length === 0 && !allowAnySource) continue;
          const told = clusterChanges.groups.find((g) => g.clusters.includes(c.name));
          expect(told?.losses ?? []).toEqual([]);
          expect((told?.gains ?? []).map((i) => `${i.destination} ${i.ports}`).sort()).toEqual(
            reachedItems(group, sources.length === 0 ? ["*"] : sources),
          );
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe("renderings kept between plans", () => {
  const mcr = (group: RuleCollectionGroup) =>
    rulesOf(group).some((r) => atomsOfRule(r).some((a) => a.destination === "mcr.microsoft.com"));

  it("belong to one catalog object: another of the same version renders from its own entries", () => {
    const shipped = loadCatalog(settings.catalogVersion);
    const edited = {
      ...shipped,
      entries: shipped.entries.filter((e) => e.id !== "base-public-mcr-microsoft-com"),
    };
    expect(mcr(desiredGroup([cluster("a")], undefined, settings).group)).toBe(true);
    expect(mcr(desiredGroup([cluster("a")], undefined, { ...settings, catalog: edited }).group)).toBe(false);
    expect(mcr(desiredGroup([cluster("a")], undefined, settings).group)).toBe(true);
  });

  it("tell apart clusters that differ only in their parameters or the policy's DNS proxy", () => {
    const destinations = (group: RuleCollectionGroup) =>
      new Set(rulesOf(group).flatMap((r) => atomsOfRule(r).map((a) => a.destination)));
    const at = (ip: string) => cluster("a", { parameters: { apiServerIp: [ip] } });
    const first = destinations(desiredGroup([at("20.1.1.1")], undefined, settings).group);
    const second = destinations(desiredGroup([at("20.2.2.2")], undefined, settings).group);
    expect(first.has("20.1.1.1") && !first.has("20.2.2.2")).toBe(true);
    expect(second.has("20.2.2.2") && !second.has("20.1.1.1")).toBe(true);
    const withProxy = desiredGroup([cluster("a")], undefined, settings);
    const without = desiredGroup([cluster("a")], undefined, settings, { dnsProxyEnabled: false });
    expect(without.findings.map((f) => f.code)).toContain("DNS_PROXY_OFF");
    expect(withProxy.findings.map((f) => f.code)).not.toContain("DNS_PROXY_OFF");
    expect(rulesOf(without.group).length).toBeLessThan(rulesOf(withProxy.group).length);
  });
});
