import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { clusterKey, collectionName, desiredGroup, ownerOf, type RuleCollectionGroup } from "../../drift";
import { asRead, cluster, settings } from "./fixtures";

const rulesOf = (group: RuleCollectionGroup) => group.ruleCollections.flatMap((c) => c.rules ?? []);

describe("collection names", () => {
  it("are aks-<name>-<8 hex of sha256(lower-cased ID)>-app|net", () => {
    const prod = cluster("prod-weu");
    const hash = createHash("sha256").update(prod.id.toLowerCase()).digest("hex").slice(0, 8);
    expect(collectionName(prod, "app")).toBe(`aks-prod-weu-${hash}-app`);
    expect(collectionName(prod, "net")).toBe(`aks-prod-weu-${hash}-net`);
  });

  it("do not depend on the casing of the ID", () => {
    const a = cluster("prod");
    const b = {
      ...a,
      id: a.id.replace("resourceGroups", "resourcegroups").replace("Microsoft.", "microsoft."),
    };
    expect(collectionName(a, "app")).toBe(collectionName(b, "app"));
  });

  it.each([["a".repeat(63)], ["UPPER_case.name"], ["weird name/with*chars"], ["---"]])(
    "stay within 80 characters of [A-Za-z0-9._-] for %j",
    (name) => {
      const text = collectionName(cluster("x", { name }), "app");
      expect(text.length).toBeLessThanOrEqual(80);
      expect(text).toMatch(/^aks-[A-Za-z0-9._-]+-[0-9a-f]{8}-app$/);
    },
  );
});

describe("desiredGroup", () => {
  it("gives each cluster an Allow collection for application and one for network rules", () => {
    const { group, findings } = desiredGroup([cluster("prod")], undefined, settings);
    expect(findings).toEqual([]);
    expect(group.name).toBe("aks-egress-guard");
    expect(group.priority).toBe(500);
    expect(
      group.ruleCollections.map((c) => [c.name.slice(-4), c.priority, c.action?.type, c.ruleCollectionType]),
    ).toEqual([
      ["-app", 100, "Allow", "FirewallPolicyFilterRuleCollection"],
      ["-net", 101, "Allow", "FirewallPolicyFilterRuleCollection"],
    ]);
    expect(group.ruleCollections[0]?.rules?.every((r) => r.ruleType === "ApplicationRule")).toBe(true);
    expect(group.ruleCollections[1]?.rules?.every((r) => r.ruleType === "NetworkRule")).toBe(true);
  });

  it("starts every description with the lower-cased cluster ID, so the group records its owner", () => {
    const prod = cluster("prod");
    const { group } = desiredGroup([prod], undefined, settings);
    for (const rule of rulesOf(group)) {
      expect(rule.description?.startsWith(`${prod.id.toLowerCase()} | `)).toBe(true);
      expect(ownerOf(rule.description)).toBe(clusterKey(prod.id));
    }
  });

  it("scopes rules to the node subnets, sorted and deduplicated, even when any source is allowed", () => {
    const prod = cluster("prod", { nodeSubnets: ["10.2.0.0/24", " 10.1.0.0/22", "10.2.0.0/24"] });
    const { group } = desiredGroup([prod], undefined, { ...settings, allowAnySource: true });
    for (const rule of rulesOf(group))
      expect(rule).toMatchObject({ sourceAddresses: ["10.1.0.0/22", "10.2.0.0/24"] });
  });

  it("writes nothing for a cluster without subnets and keeps its existing collections exactly", () => {
    const a = cluster("a");
    const before = asRead(desiredGroup([a, cluster("b")], undefined, settings).group);
    const { group, findings } = desiredGroup([{ ...a, nodeSubnets: [] }, cluster("b")], before, settings);
    const kept = before.ruleCollections.filter((c) => c.name.startsWith("aks-a-"));
    expect(kept).toHaveLength(2);
    expect(group.ruleCollections.filter((c) => c.name.startsWith("aks-a-"))).toEqual(kept);
    expect(findings).toEqual([
      expect.objectContaining({ code: "NO_NODE_SUBNETS", severity: "error", clusterId: clusterKey(a.id) }),
    ]);
    expect(
      rulesOf(group).some((r) => (r as { sourceAddresses?: string[] }).sourceAddresses?.includes("*")),
    ).toBe(false);
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
    expect(priv.group.ruleCollections.map((c) => c.name.slice(-4))).toEqual(["-app"]);
  });

  it("counts a cluster listed twice (IDs differing in case) once", () => {
    const a = cluster("a");
    const { group, findings } = desiredGroup([a, { ...a, id: a.id.toUpperCase() }], undefined, settings);
    expect(group.ruleCollections).toHaveLength(2);
    expect(findings.map((f) => f.code)).toEqual(["DUPLICATE_CLUSTER"]);
  });

  it("keeps the collections of a cluster whose region the catalog does not know", () => {
    const before = asRead(desiredGroup([cluster("a")], undefined, settings).group);
    const { group, findings } = desiredGroup([cluster("a", { region: "atlantis" })], before, settings);
    expect(group.ruleCollections).toEqual(before.ruleCollections);
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
      [cluster("b"), cluster("a", { features: ["windows"] })],
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
