import { describe, expect, it } from "vitest";
import { formatPlan, type Plan, planPolicy } from "../../drift";
import { asRead, cluster, policy, settings } from "./fixtures";

const base: Plan = {
  policyId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/firewallPolicies/fp",
  groupName: "aks-egress-guard",
  action: "put",
  body: { name: "aks-egress-guard", priority: 500, ruleCollections: [] },
  changes: [],
  risk: { added: 0, removed: 0, changed: 0, managedRulesBefore: 0, removedShare: 0 },
  findings: [],
  hash: "h",
};

describe("formatPlan", () => {
  it("ends with a terraform-like summary and the removed share", () => {
    const text = formatPlan({
      ...base,
      risk: { added: 3, removed: 1, changed: 2, managedRulesBefore: 8, removedShare: 1 / 8 },
    });
    expect(text.trimEnd().split("\n").at(-1)).toBe(
      "Plan: 3 to add, 2 to change, 1 to remove (12.5% of managed rules).",
    );
  });

  it("says so when there is nothing to do", () => {
    const text = formatPlan({ ...base, action: "none" });
    expect(text).toContain("Action: none (no write)");
    expect(text.trimEnd().endsWith("No changes. The managed group matches what the clusters need.")).toBe(
      true,
    );
  });

  it("shows group- and collection-level changes with their fields", () => {
    const text = formatPlan({
      ...base,
      body: {
        name: "aks-egress-guard",
        priority: 300,
        ruleCollections: [
          {
            ruleCollectionType: "FirewallPolicyFilterRuleCollection",
            name: "c",
            priority: 100,
            action: { type: "Allow" },
            rules: [],
          },
        ],
      },
      changes: [
        { kind: "modify", collection: "", rule: "", fields: ["priority: 500 -> 300"] },
        { kind: "modify", collection: "c", rule: "", fields: ["action: Deny -> Allow"] },
      ],
    });
    expect(text).toContain("  ~ group aks-egress-guard\n      priority: 500 -> 300\n");
    expect(text).toContain("  ~ collection c (priority 100, Allow)\n      action: Deny -> Allow\n");
  });

  it("is plain text: no colour codes, one trailing newline, paste-able", () => {
    const first = planPolicy({ clusters: [cluster("a")], policy: policy([]), settings });
    if (first.body === undefined) throw new Error("no body");
    const text = formatPlan(planPolicy({ clusters: [], policy: policy([asRead(first.body)]), settings }));
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes on purpose
    expect(text).not.toMatch(/\u001b\[/);
    expect(text.endsWith("\n") && !text.endsWith("\n\n")).toBe(true);
    expect(text).toContain("  - collection aks-egress-shared-app");
    expect(text).toContain("  - collection aks-egress-shared-net");
    const rules = first.body.ruleCollections.reduce((n, c) => n + (c.rules?.length ?? 0), 0);
    expect(text).toContain(`Plan: 0 to add, 0 to change, ${rules} to remove (100% of managed rules).`);
  });

  it("says per cluster what it gains and loses, whatever rules carry it", () => {
    const a = cluster("a");
    const b = cluster("b", { nodeSubnets: ["10.2.0.0/24"] });
    const first = planPolicy({ clusters: [a, b], policy: policy([]), settings });
    if (first.body === undefined) throw new Error("no body");
    const text = formatPlan(
      planPolicy({
        clusters: [a, { ...b, features: ["gpu"] }],
        policy: policy([asRead(first.body)]),
        settings,
      }),
    );
    expect(text).toContain(
      [
        "Per cluster: 1 of 2 cluster(s) gain or lose access.",
        "",
        "  westeurope [base, gpu]: b",
        "    + download.docker.com Https:443 (gpu)",
        "    + nvidia.github.io Https:443 (gpu)",
        "    + us.download.nvidia.com Https:443 (gpu)",
        "",
      ].join("\n"),
    );
    expect(text).not.toMatch(/^ {2}\S.*: a$/m);
    const lost = formatPlan(planPolicy({ clusters: [a, b], policy: policy([asRead(first.body)]), settings }));
    expect(lost).not.toContain("Per cluster:");
  });
});
