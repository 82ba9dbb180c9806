import { describe, expect, it } from "vitest";
import { decide, effectiveMode, type RemovalRecord, removalsWithin } from "../../drift/decision";
import type { ClusterProfile, Mode, Plan, RuleChange } from "../../drift/types";

const A = "/subscriptions/s/resourcegroups/rg/providers/microsoft.containerservice/managedclusters/a";
const B = "/subscriptions/s/resourcegroups/rg/providers/microsoft.containerservice/managedclusters/b";
const cluster = (id: string, mode?: Mode): ClusterProfile => ({
  id,
  name: id.split("/").pop() ?? "",
  cloud: "AzureCloud",
  region: "westeurope",
  features: [],
  parameters: {},
  privateCluster: false,
  nodeSubnets: ["10.0.0.0/24"],
  ...(mode ? { mode } : {}),
});
const plan = (changes: RuleChange[], removed = 0, before = 100): Plan => ({
  policyId: "p",
  groupName: "g",
  action: changes.length > 0 ? "put" : "none",
  changes,
  findings: [],
  hash: "h",
  baseHash: "b",
  changeHash: "c",
  clusterChanges: { clusterCount: 2, clustersAffected: 0, groups: [] },
  // Shared rules carry no owner: the plan says which served clusters gain or lose anything.
  affectedClusters: [...new Set(changes.flatMap((c) => (c.clusterId ? [c.clusterId] : [])))].sort(),
  risk: {
    added: changes.filter((c) => c.kind === "add").length,
    removed,
    changed: 0,
    managedRulesBefore: before,
    removedShare: before === 0 ? 0 : removed / before,
  },
});
const add = (clusterId?: string): RuleChange => ({
  kind: "add",
  collection: "c",
  rule: "r",
  ...(clusterId ? { clusterId } : {}),
});
const remove = (clusterId?: string): RuleChange => ({
  kind: "remove",
  collection: "c",
  rule: "r",
  ...(clusterId ? { clusterId } : {}),
});
const base = { mode: "auto" as Mode, removalsNeedApproval: true, maxRemovedShare: 0.25 };

describe("remediation decision", () => {
  it.each([
    ["no drift", plan([]), base, [], "none"],
    ["auto, additions only", plan([add(A)]), base, [cluster(A)], "apply"],
    ["audit globally", plan([add(A)]), { ...base, mode: "audit" as Mode }, [cluster(A)], "report"],
    ["approve globally", plan([add(A)]), { ...base, mode: "approve" as Mode }, [cluster(A)], "approve"],
    ["auto with a removal (removals need approval)", plan([remove(A)], 1), base, [cluster(A)], "approve"],
    [
      "auto with a removal allowed",
      plan([remove(A)], 1),
      { ...base, removalsNeedApproval: false },
      [cluster(A)],
      "apply",
    ],
    [
      "auto removing 30% > 25% even when removals are allowed",
      plan([remove(A)], 30),
      { ...base, removalsNeedApproval: false },
      [cluster(A)],
      "approve",
    ],
    [
      "a cluster tagged audit stops the whole plan",
      plan([add(A), add(B)]),
      base,
      [cluster(A), cluster(B, "audit")],
      "report",
    ],
    [
      "a cluster tagged auto under a global approve",
      plan([add(A)]),
      { ...base, mode: "approve" as Mode },
      [cluster(A, "auto")],
      "apply",
    ],
    [
      "stale rules of a gone cluster follow the global mode",
      plan([remove(B)], 1),
      { ...base, mode: "approve" as Mode, removalsNeedApproval: false },
      [cluster(A, "auto")],
      "approve",
    ],
  ])("%s", (_, p, settings, clusters, outcome) => {
    expect(decide(p, effectiveMode(p, clusters, settings.mode), settings).outcome).toBe(outcome);
  });

  it("says why approval is needed, with the share", () => {
    const d = decide(plan([remove(A)], 40), "auto", base);
    expect(d.reasons).toEqual([
      "the plan removes 40 rule(s), and removals need approval",
      "the plan removes 40% of the managed rules, more than the 25% allowed without approval",
    ]);
  });

  it("takes the strictest mode among the clusters a plan changes", () => {
    expect(effectiveMode(plan([add(A), add(B)]), [cluster(A, "approve"), cluster(B, "auto")], "auto")).toBe(
      "approve",
    );
  });

  it("bounds unapproved removals over the window, not per plan: salami slices add up", () => {
    const allowed = { ...base, removalsNeedApproval: false };
    // Five passes of 25% each would take 63% of a group of 100 (25, 19, 14, ...).
    let rules = 100;
    const records: RemovalRecord[] = [];
    const outcomes: string[] = [];
    for (let pass = 0; pass < 5; pass++) {
      const removed = Math.floor(rules * 0.25);
      const d = decide(plan([remove(A)], removed, rules), "auto", allowed, records);
      outcomes.push(d.outcome);
      if (d.outcome !== "apply") break;
      records.push({ at: `2026-01-01T0${pass}:00:00Z`, removed, before: rules });
      rules -= removed;
    }
    expect(outcomes).toEqual(["apply", "approve"]);
    const d = decide(plan([remove(A)], 18, 75), "auto", allowed, records);
    expect(d.reasons.at(-1)).toMatch(
      /with the 25 rule\(s\) removed without approval earlier in the window, this plan would remove 43% /,
    );
  });

  it("forgets removals older than the window", () => {
    const records: RemovalRecord[] = [
      { at: "2026-01-01T00:00:00Z", removed: 25, before: 100 },
      { at: "2026-01-01T20:00:00Z", removed: 5, before: 75 },
    ];
    expect(removalsWithin(records, new Date("2026-01-02T01:00:00Z"), 24)).toEqual([records[1]]);
    expect(removalsWithin(records, new Date("2026-01-02T21:00:00Z"), 24)).toEqual([]);
  });
});
