import { describe, expect, it } from "vitest";
import {
  type ClusterProfile,
  canonicalJson,
  checkLimits,
  clusterKey,
  FOREIGN_RULE,
  normaliseGroup,
  type Plan,
  planPolicy,
  type RuleCollectionGroup,
  rulesSize,
  sha256Hex,
} from "../../drift";
import { atomsOfRule } from "../../drift/atoms";
import { checkCollectionCount } from "../../drift/limits";
import { REGROUPED } from "../../drift/plan";
import { isGuardError } from "../../errors";
import { asRead, cluster, policy, settings, slots } from "./fixtures";

/** Plans, then plans again against the group the PUT would leave (as a GET would return it). */
function applyAndReplan(
  clusters: ClusterProfile[],
  before: RuleCollectionGroup[] = [],
): [Plan, RuleCollectionGroup] {
  const plan = planPolicy({ clusters, policy: policy(before), settings });
  const after = plan.body === undefined ? before[0] : asRead(plan.body);
  if (after === undefined) throw new Error("no group");
  return [plan, after];
}

/** The atom keys a set of node subnets reaches through a group's rules. */
function reach(group: RuleCollectionGroup, subnets: readonly string[]): string[] {
  const atoms = new Set<string>();
  for (const rule of group.ruleCollections.flatMap((c) => c.rules ?? [])) {
    const sources = (rule as { sourceAddresses?: string[] }).sourceAddresses ?? [];
    if (sources.some((s) => subnets.includes(s))) for (const a of atomsOfRule(rule)) atoms.add(a.key);
  }
  return [...atoms].sort();
}

describe("stability: one cluster's change never changes what another cluster reaches", () => {
  const a = cluster("mmm");
  const early = cluster("aaa", { nodeSubnets: ["10.2.0.0/24"], features: ["gpu"] });
  const late = cluster("zzz", { nodeSubnets: ["10.3.0.0/24"] });
  const SHARED_SLOTS = [
    ["aks-egress-shared-app", 100],
    ["aks-egress-shared-net", 1000],
  ];

  it("adding clusters", () => {
    const [, one] = applyAndReplan([a]);
    const [plan, two] = applyAndReplan([a, early, late], [one]);
    expect(slots(one)).toEqual(SHARED_SLOTS);
    expect(slots(two)).toEqual(SHARED_SLOTS);
    expect(reach(two, a.nodeSubnets)).toEqual(reach(one, a.nodeSubnets));
    expect(plan.affectedClusters).toEqual([clusterKey(early.id), clusterKey(late.id)].sort());
    expect(plan.risk).toMatchObject({ removed: 0 });
  });

  it("removing a cluster", () => {
    const [, three] = applyAndReplan([a, early, late]);
    const [plan, two] = applyAndReplan([a, late], [three]);
    expect(slots(two)).toEqual(SHARED_SLOTS);
    for (const kept of [a, late])
      expect(reach(two, kept.nodeSubnets)).toEqual(reach(three, kept.nodeSubnets));
    expect(reach(two, early.nodeSubnets)).toEqual([]);
    expect(plan.affectedClusters).toEqual([]);
    expect(plan.findings.map((f) => f.code)).toEqual(["STALE_SOURCES"]);
    expect(plan.findings[0]?.message).toContain("10.2.0.0/24");
  });

  it("a cluster that comes back gets exactly what it had, and nobody else moves", () => {
    const [, three] = applyAndReplan([a, early, late]);
    const [, two] = applyAndReplan([a, late], [three]);
    const [plan, again] = applyAndReplan([a, late, early], [two]);
    expect(canonicalJson(normaliseGroup(again))).toBe(canonicalJson(normaliseGroup(three)));
    expect(plan.affectedClusters).toEqual([clusterKey(early.id)]);
  });
});

describe("planPolicy", () => {
  it("is idempotent: the body, once applied, plans to nothing", () => {
    const clusters = [
      cluster("a", { features: ["gpu", "windows"] }),
      cluster("b", { nodeSubnets: ["10.2.0.0/22"] }),
    ];
    const [plan, after] = applyAndReplan(clusters);
    expect(plan.action).toBe("put");
    const again = planPolicy({ clusters, policy: policy([after]), settings });
    expect(again).toMatchObject({ action: "none", changes: [], hash: plan.hash });
    expect(again.body).toBeUndefined();
  });

  it("with no clusters and no group: nothing to do", () => {
    const plan = planPolicy({ clusters: [], policy: policy([]), settings });
    expect(plan).toMatchObject({ action: "none", changes: [], findings: [] });
    expect(plan.risk).toEqual({ added: 0, removed: 0, changed: 0, managedRulesBefore: 0, removedShare: 0 });
  });

  it("recreates a managed group deleted by hand", () => {
    const [first, after] = applyAndReplan([cluster("a")]);
    expect(after.ruleCollections.length).toBe(2);
    const plan = planPolicy({ clusters: [cluster("a")], policy: policy([]), settings });
    expect(plan.action).toBe("put");
    expect(plan.hash).toBe(first.hash);
    expect(plan.changes.every((c) => c.kind === "add")).toBe(true);
  });

  it("empties the group (PUT, never delete) when its last cluster is gone, naming the cluster", () => {
    const [, after] = applyAndReplan([cluster("a")]);
    const plan = planPolicy({ clusters: [], policy: policy([after]), settings });
    expect(plan.action).toBe("put");
    expect(plan.body?.ruleCollections).toEqual([]);
    expect(plan.risk.removedShare).toBe(1);
    expect(new Set(plan.changes.map((c) => c.reason))).toEqual(
      new Set(["no served cluster needs exactly this any more"]),
    );
    const named = planPolicy({
      clusters: [],
      policy: policy([after]),
      settings,
      sourceOwners: { "10.1.0.0/22": clusterKey(cluster("a").id) },
    });
    expect(named.findings).toEqual([
      expect.objectContaining({ code: "STALE_SOURCES", clusterId: clusterKey(cluster("a").id) }),
    ]);
  });

  it("finds the managed group by name whatever its casing, and leaves other groups out of the body", () => {
    const [, after] = applyAndReplan([cluster("a")]);
    const other: RuleCollectionGroup = { name: "platform", priority: 200, ruleCollections: [] };
    const plan = planPolicy({
      clusters: [cluster("a")],
      policy: policy([other, { ...after, name: "AKS-EGRESS-GUARD" }]),
      settings,
    });
    expect(plan.action).toBe("none");
    const b = cluster("b", { nodeSubnets: ["10.2.0.0/24"] });
    const changed = planPolicy({ clusters: [cluster("a"), b], policy: policy([other, after]), settings });
    expect(changed.body?.name).toBe("aks-egress-guard");
    expect(changed.changes.every((c) => c.collection.startsWith("aks-egress-shared-"))).toBe(true);
    expect(changed.affectedClusters).toEqual([clusterKey(b.id)]);
  });

  it("reports a changed group priority as a group-level change", () => {
    const [, after] = applyAndReplan([cluster("a")]);
    const plan = planPolicy({
      clusters: [cluster("a")],
      policy: policy([after]),
      settings: { ...settings, groupPriority: 300 },
    });
    expect(plan.action).toBe("put");
    expect(plan.changes).toEqual([
      { kind: "modify", collection: "", rule: "", fields: ["priority: 500 -> 300"] },
    ]);
    expect(plan.risk.changed).toBe(1);
  });

  it("puts a collection's action back to Allow when it was changed by hand", () => {
    const [, after] = applyAndReplan([cluster("a")]);
    const edited = structuredClone(after);
    const first = edited.ruleCollections[0];
    if (first === undefined) throw new Error("no collection");
    first.action = { type: "Deny" };
    const plan = planPolicy({ clusters: [cluster("a")], policy: policy([edited]), settings });
    expect(plan.changes).toEqual([
      expect.objectContaining({
        kind: "modify",
        collection: first.name,
        rule: "",
        fields: ["action: Deny -> Allow"],
      }),
    ]);
  });

  it("removes a foreign Deny collection inside the managed group as drift, without a shadowing finding", () => {
    const [, after] = applyAndReplan([cluster("a")]);
    const edited = structuredClone(after);
    edited.ruleCollections.push({
      ruleCollectionType: "FirewallPolicyFilterRuleCollection",
      name: "hand-made-deny",
      priority: 50_000,
      action: { type: "Deny" },
      rules: [
        {
          ruleType: "NetworkRule",
          name: "deny-all",
          ipProtocols: ["Any"],
          sourceAddresses: ["*"],
          destinationAddresses: ["*"],
          destinationPorts: ["*"],
        },
      ],
    });
    const plan = planPolicy({ clusters: [cluster("a")], policy: policy([edited]), settings });
    expect(plan.changes).toEqual([
      { kind: "remove", collection: "hand-made-deny", rule: "deny-all", reason: FOREIGN_RULE },
    ]);
    expect(plan.findings).toEqual([]);
  });

  it("counts a rule replaced by one that allows all it did as changed, a lost host as removed", () => {
    const [, before] = applyAndReplan([cluster("a")]);
    const gained = planPolicy({
      clusters: [cluster("a", { features: ["gpu"] })],
      policy: policy([before]),
      settings,
    });
    const replaced = gained.changes.filter((c) => c.kind === "remove");
    expect(replaced.length).toBeGreaterThan(0);
    expect(replaced.every((c) => c.reason === REGROUPED)).toBe(true);
    expect(gained.risk).toMatchObject({ removed: 0, changed: replaced.length });
    const [, withGpu] = applyAndReplan([cluster("a", { features: ["gpu"] })]);
    const lost = planPolicy({ clusters: [cluster("a")], policy: policy([withGpu]), settings });
    expect(lost.risk.removed).toBeGreaterThan(0);
    expect(lost.changes.some((c) => c.kind === "remove" && c.reason !== REGROUPED)).toBe(true);
  });

  it("reports modified fields: sources, ports, targets, protocols", () => {
    const [, after] = applyAndReplan([cluster("a")]);
    const edited = structuredClone(after);
    const rules = edited.ruleCollections.flatMap((c) => c.rules ?? []);
    const app = rules.find((r) => r.name.startsWith("app-https-443-"));
    const net = rules.find((r) => r.name.startsWith("net-tcp-9000-azurecloud.westeurope-"));
    if (app?.ruleType !== "ApplicationRule" || net?.ruleType !== "NetworkRule") throw new Error("no rules");
    const hosts = [...app.targetFqdns];
    Object.assign(app, {
      targetFqdns: [...hosts, "evil.example"],
      protocols: [{ protocolType: "Http", port: 80 }],
    });
    Object.assign(net, { destinationPorts: ["9000", "22"], sourceAddresses: ["*"] });
    const plan = planPolicy({ clusters: [cluster("a")], policy: policy([edited]), settings });
    expect(plan.changes.map((c) => [c.kind, c.rule, c.fields])).toEqual([
      [
        "modify",
        app.name,
        [
          "protocols: Http:80 -> Https:443",
          `targetFqdns: ${[...hosts, "evil.example"].sort().join(",")} -> ${[...hosts].sort().join(",")}`,
        ],
      ],
      ["modify", net.name, ["sourceAddresses: * -> 10.1.0.0/22", "destinationPorts: 22,9000 -> 9000"]],
    ]);
  });
});

describe("the plan hash", () => {
  const hashOf = (clusters: ClusterProfile[], groups: RuleCollectionGroup[] = [], dns = true) =>
    planPolicy({ clusters, policy: policy(groups, dns), settings }).hash;

  it("is the sha256 of the canonical JSON of the normalised desired body", () => {
    const plan = planPolicy({ clusters: [cluster("a")], policy: policy([]), settings });
    if (plan.body === undefined) throw new Error("no body");
    expect(plan.hash).toBe(sha256Hex(canonicalJson(normaliseGroup(plan.body))));
    expect(plan.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("does not change when only the group as read or the cluster order changes", () => {
    const [, after] = applyAndReplan([cluster("a")]);
    expect(hashOf([cluster("a")], [after])).toBe(hashOf([cluster("a")]));
    expect(hashOf([cluster("a"), cluster("b")])).toBe(hashOf([cluster("b"), cluster("a")]));
  });

  it.each<[string, ClusterProfile[], boolean]>([
    ["a feature", [cluster("a", { features: ["gpu"] })], true],
    ["a subnet", [cluster("a", { nodeSubnets: ["10.1.0.0/22", "10.9.0.0/24"] })], true],
    ["a cluster", [cluster("a"), cluster("b")], true],
    ["the DNS proxy setting", [cluster("a")], false],
  ])("changes when the desired body changes: %s", (_, clusters, dns) => {
    expect(hashOf(clusters, [], dns)).not.toBe(hashOf([cluster("a")]));
  });
});

describe("limits", () => {
  function refusal(run: () => unknown): { message: string; details: Readonly<Record<string, unknown>> } {
    try {
      run();
    } catch (error) {
      if (isGuardError(error, "PLAN_EXCEEDS_LIMITS")) return error;
      throw error;
    }
    throw new Error("expected PLAN_EXCEEDS_LIMITS");
  }

  it("refuses a body over 2 MB of rules, naming the size", () => {
    // 2 MB is far beyond what clusters fill in the shared layout (~200 B each): a hand-grown body.
    const hosts = Array.from({ length: 100_000 }, (_, i) => `host-${String(i).padStart(6, "0")}.example.com`);
    const body: RuleCollectionGroup = {
      name: "aks-egress-guard",
      priority: 500,
      ruleCollections: [
        {
          ruleCollectionType: "FirewallPolicyFilterRuleCollection",
          name: "aks-egress-shared-app",
          priority: 100,
          action: { type: "Allow" },
          rules: [
            {
              ruleType: "ApplicationRule",
              name: "big",
              sourceAddresses: ["10.1.0.0/22"],
              protocols: [{ protocolType: "Https", port: 443 }],
              targetFqdns: hosts,
            },
          ],
        },
      ],
    };
    const error = refusal(() => checkLimits(body));
    const size = error.details.size;
    expect(typeof size === "number" && size > 2 * 1024 * 1024).toBe(true);
    expect(error.message).toContain(`${String(size)} bytes`);
    expect(error.message).toContain("2097152");
  });

  it("refuses a body over Azure's 20,000 network source/destination pairs, naming the count", () => {
    // Each node subnet of a plain cluster pairs with two destinations (AzureCloud.westeurope for the
    // tunnel, ntp.ubuntu.com): 5,200 clusters with two subnets each make 20,800 pairs.
    const many = Array.from({ length: 5200 }, (_, i) =>
      cluster(`c${i}`, {
        nodeSubnets: [
          `10.${Math.floor(i / 256)}.${i % 256}.0/25`,
          `10.${Math.floor(i / 256)}.${i % 256}.128/25`,
        ],
      }),
    );
    const error = refusal(() => planPolicy({ clusters: many, policy: policy([]), settings }));
    const pairs = error.details.pairs;
    expect(typeof pairs === "number" && pairs > 20_000).toBe(true);
    expect(error.message).toContain(`${String(pairs)} unique source/destination pairs`);
    expect(error.message).toContain("20000");
  });

  it("refuses a policy whose groups would hold more than 2,000 rule collections", () => {
    const [, after] = applyAndReplan([cluster("a")]);
    const collection = (i: number) => ({
      ruleCollectionType: "FirewallPolicyFilterRuleCollection" as const,
      name: `c${i}`,
      priority: 100 + i,
      action: { type: "Allow" },
      rules: [],
    });
    const others = [
      { name: "team", priority: 200, ruleCollections: Array.from({ length: 1998 }, (_, i) => collection(i)) },
    ];
    expect(() => checkCollectionCount(after, others)).not.toThrow();
    const error = refusal(() =>
      checkCollectionCount(after, [
        {
          ...others[0],
          ruleCollections: [...(others[0]?.ruleCollections ?? []), collection(9999)],
        } as RuleCollectionGroup,
      ]),
    );
    expect(error.message).toContain("2001 rule collections");
    expect(error.details).toMatchObject({ collections: 2001, limit: 2000 });
  });

  it("accepts a large fleet in the two shared collections, far under 2 MB", () => {
    const many = Array.from({ length: 1000 }, (_, i) =>
      cluster(`c${String(i).padStart(3, "0")}`, {
        nodeSubnets: [`10.${Math.floor(i / 256)}.${i % 256}.0/24`],
        features: i % 2 === 0 ? ["gpu"] : [],
      }),
    );
    const body = planPolicy({ clusters: many, policy: policy([]), settings }).body;
    expect(body?.ruleCollections.map((c) => c.name)).toEqual([
      "aks-egress-shared-app",
      "aks-egress-shared-net",
    ]);
    if (body === undefined) throw new Error("no body");
    expect(rulesSize(body)).toBeLessThan(400 * 1024);
  });

  it.each([50, 65001])("refuses a group priority of %d, naming it", (groupPriority) => {
    const error = refusal(() =>
      planPolicy({ clusters: [cluster("a")], policy: policy([]), settings: { ...settings, groupPriority } }),
    );
    expect(error.message).toContain(`group aks-egress-guard: ${groupPriority}`);
    expect(error.message).toContain("100 to 65000");
  });

  it("refuses to create the managed group on a policy that already holds Azure's 60 groups", () => {
    const full = Array.from({ length: 60 }, (_, i) => ({
      name: `team-${i}`,
      priority: 1000 + i,
      ruleCollections: [],
    }));
    const error = refusal(() => planPolicy({ clusters: [cluster("a")], policy: policy(full), settings }));
    expect(error.message).toContain("already holds 60 rule collection groups");
    expect(planPolicy({ clusters: [cluster("a")], policy: policy(full.slice(1)), settings }).action).toBe(
      "put",
    );
  });
});

describe("the change a plan is bound to", () => {
  it("moves when the group as read moves, even when the group to write does not", () => {
    const [first, after] = applyAndReplan([cluster("a")]);
    const edited = structuredClone(after);
    edited.ruleCollections.push({
      ruleCollectionType: "FirewallPolicyFilterRuleCollection",
      name: "hand-made",
      priority: 60000,
      action: { type: "Allow" },
      rules: [
        {
          ruleType: "NetworkRule",
          name: "x",
          ipProtocols: ["TCP"],
          sourceAddresses: ["10.0.0.0/8"],
          destinationAddresses: ["192.0.2.1"],
          destinationPorts: ["1"],
        },
      ],
    });
    const second = planPolicy({ clusters: [cluster("a")], policy: policy([edited]), settings });
    expect(second.hash).toBe(first.hash);
    expect(second.baseHash).not.toBe(first.baseHash);
    expect(second.changeHash).not.toBe(first.changeHash);
    expect(first.baseHash).toBe("absent");
  });

  it("treats a group whose last write Failed as drift, even when its content matches", () => {
    const [, after] = applyAndReplan([cluster("a")]);
    expect(planPolicy({ clusters: [cluster("a")], policy: policy([after]), settings }).action).toBe("none");
    const failed = { ...after, provisioningState: "Failed" };
    const plan = planPolicy({ clusters: [cluster("a")], policy: policy([failed]), settings });
    expect(plan.action).toBe("put");
    expect(plan.changes).toEqual([expect.objectContaining({ fields: [expect.stringMatching(/Failed/)] })]);
    expect(plan.risk).toMatchObject({ added: 0, removed: 0, changed: 1 });
  });
});
