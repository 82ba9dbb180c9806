import { describe, expect, it } from "vitest";
import {
  type ClusterProfile,
  canonicalJson,
  clusterKey,
  FOREIGN_RULE,
  normaliseGroup,
  type Plan,
  planPolicy,
  type RuleCollectionGroup,
  sha256Hex,
} from "../../drift";
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

describe("stability: one cluster's change never renames or renumbers another's collections", () => {
  const a = cluster("mmm");
  // Sorts before and after "mmm", so that fresh slots are handed out on both sides of it.
  const early = cluster("aaa");
  const late = cluster("zzz");

  it("adding clusters", () => {
    const [, one] = applyAndReplan([a]);
    const [plan, two] = applyAndReplan([a, early, late], [one]);
    const mine = (g: RuleCollectionGroup) => slots(g).filter(([name]) => name.startsWith("aks-mmm-"));
    expect(mine(two)).toEqual(mine(one));
    expect(plan.changes.every((c) => c.clusterId !== clusterKey(a.id))).toBe(true);
    expect(plan.risk).toMatchObject({ removed: 0, changed: 0 });
  });

  it("removing a cluster", () => {
    const [, three] = applyAndReplan([a, early, late]);
    const [plan, two] = applyAndReplan([a, late], [three]);
    const keep = (g: RuleCollectionGroup) => slots(g).filter(([name]) => !name.startsWith("aks-aaa-"));
    expect(slots(two)).toEqual(keep(three));
    expect(plan.changes.every((c) => c.kind === "remove" && c.clusterId === clusterKey(early.id))).toBe(true);
  });

  it("a removed cluster's slot is reused by the next new one, and nobody else moves", () => {
    const [, three] = applyAndReplan([a, early, late]);
    const [, two] = applyAndReplan([a, late], [three]);
    const [, again] = applyAndReplan([a, late, cluster("new")], [two]);
    expect(slots(again).filter(([n]) => !n.startsWith("aks-new-"))).toEqual(slots(two));
    expect(
      slots(again)
        .filter(([n]) => n.startsWith("aks-new-"))
        .map(([, p]) => p),
    ).toEqual([100, 101]);
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
      new Set([`cluster ${clusterKey(cluster("a").id)} is gone or no longer on this policy`]),
    );
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
    const changed = planPolicy({
      clusters: [cluster("a"), cluster("b")],
      policy: policy([other, after]),
      settings,
    });
    expect(changed.body?.name).toBe("aks-egress-guard");
    expect(changed.changes.every((c) => c.collection.startsWith("aks-b-"))).toBe(true);
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

  it("reports modified fields: sources, ports, targets, protocols", () => {
    const [, after] = applyAndReplan([cluster("a")]);
    const edited = structuredClone(after);
    for (const c of edited.ruleCollections) {
      for (const r of c.rules ?? []) {
        if (r.name === "app-mcr.microsoft.com" && r.ruleType === "ApplicationRule") {
          Object.assign(r, {
            targetFqdns: ["mcr.microsoft.com", "evil.example"],
            protocols: [{ protocolType: "Http", port: 80 }],
          });
        }
        if (r.name === "net-tcp-azurecloud.westeurope" && r.ruleType === "NetworkRule") {
          Object.assign(r, { destinationPorts: ["9000", "22"], sourceAddresses: ["*"] });
        }
      }
    }
    const plan = planPolicy({ clusters: [cluster("a")], policy: policy([edited]), settings });
    expect(plan.changes.map((c) => [c.kind, c.rule, c.fields])).toEqual([
      [
        "modify",
        "app-mcr.microsoft.com",
        [
          "protocols: Http:80 -> Https:443",
          "targetFqdns: evil.example,mcr.microsoft.com -> mcr.microsoft.com",
        ],
      ],
      [
        "modify",
        "net-tcp-azurecloud.westeurope",
        ["sourceAddresses: * -> 10.1.0.0/22", "destinationPorts: 22,9000 -> 9000"],
      ],
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
    const many = Array.from({ length: 700 }, (_, i) =>
      cluster(`c${String(i).padStart(3, "0")}`, { features: ["gpu", "azure-monitor", "windows"] }),
    );
    const error = refusal(() => planPolicy({ clusters: many, policy: policy([]), settings }));
    const size = error.details.size;
    expect(typeof size === "number" && size > 2 * 1024 * 1024).toBe(true);
    expect(error.message).toContain(`${String(size)} bytes`);
    expect(error.message).toContain("2097152");
  });

  it("accepts a large body under the limit", () => {
    const many = Array.from({ length: 100 }, (_, i) => cluster(`c${String(i).padStart(3, "0")}`));
    expect(planPolicy({ clusters: many, policy: policy([]), settings }).body?.ruleCollections).toHaveLength(
      200,
    );
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
