import { describe, expect, it } from "vitest";
import {
  desiredGroup,
  findShadowing,
  planPolicy,
  type RuleBody,
  type RuleCollection,
  type RuleCollectionGroup,
} from "../../drift";
import { cluster, policy, settings } from "./fixtures";

// The managed group at priority 500, shared layout: one application rule per (sources, protocol, port)
// (HTTPS 443 to the hosts), network rules to AzureCloud.westeurope TCP 9000 / UDP 1194 and to
// ntp.ubuntu.com UDP 123, from 10.1.0.0/22.
const managed = desiredGroup([cluster("a")], undefined, settings).group;

function denyGroup(priority: number, rule: RuleBody, action = "Deny"): RuleCollectionGroup {
  return {
    name: "other",
    priority,
    ruleCollections: [
      {
        ruleCollectionType: "FirewallPolicyFilterRuleCollection",
        name: "c",
        priority: 100,
        action: { type: action },
        rules: [rule],
      },
    ],
  };
}

const netDeny = (o: Record<string, unknown>): RuleBody => ({
  ruleType: "NetworkRule",
  name: "d",
  ipProtocols: ["TCP"],
  sourceAddresses: ["*"],
  destinationAddresses: ["*"],
  destinationPorts: ["443"],
  ...o,
});
const appDeny = (o: Record<string, unknown>): RuleBody => ({
  ruleType: "ApplicationRule",
  name: "d",
  sourceAddresses: ["*"],
  protocols: [{ protocolType: "Https", port: 443 }],
  targetFqdns: ["mcr.microsoft.com"],
  ...o,
});

describe("findShadowing", () => {
  it.each<[string, RuleCollectionGroup, string[]]>([
    [
      "a network Deny shadows application rules whatever its group priority",
      denyGroup(60000, netDeny({ destinationFqdns: ["mcr.microsoft.com"], destinationAddresses: [] })),
      ["app-https-443"],
    ],
    ["an earlier application Deny shadows", denyGroup(200, appDeny({})), ["app-https-443"]],
    ["a later application Deny does not", denyGroup(600, appDeny({})), []],
    ["a Deny at the same group priority may shadow", denyGroup(500, appDeny({})), ["app-https-443"]],
    [
      "an earlier network Deny shadows network rules",
      denyGroup(200, netDeny({ destinationPorts: ["9000"] })),
      ["net-tcp-9000"],
    ],
    [
      "a later network Deny does not shadow network rules",
      denyGroup(600, netDeny({ destinationPorts: ["9000"] })),
      [],
    ],
    ["other sources do not overlap", denyGroup(200, appDeny({ sourceAddresses: ["192.168.0.0/16"] })), []],
    [
      "IP group sources are assumed to overlap",
      denyGroup(200, appDeny({ sourceAddresses: [], sourceIpGroups: ["/x/ipGroups/g"] })),
      ["app-https-443"],
    ],
    [
      "another port does not overlap",
      denyGroup(200, appDeny({ protocols: [{ protocolType: "Https", port: 8443 }] })),
      [],
    ],
    ["Allow collections are not a problem", denyGroup(200, appDeny({}), "Allow"), []],
    [
      "web categories are not guessed",
      denyGroup(200, appDeny({ targetFqdns: [], webCategories: ["Gambling"] })),
      [],
    ],
  ])("%s", (_, other, shadowed) => {
    const findings = findShadowing(managed, [other]);
    const rules = findings.flatMap((f) => f.message.match(/aks-[^ ,]+\/[^ ,]+(?=[,.]\s|\.$)/g) ?? []);
    // A shared rule is named <kind>-<protocol>-<port>-<first destination>-<hash of what it allows>.
    expect(rules.map((r) => r.replace(/^[^/]+\//, "").match(/^(app|net)-[a-z]+-\d+/)?.[0])).toEqual(shadowed);
    for (const f of findings) {
      expect(f).toMatchObject({ code: "SHADOWED_BY_DENY", severity: "warning", location: "other/c/d" });
    }
  });

  it("says when the order of two groups at one priority is not defined", () => {
    const [finding] = findShadowing(managed, [denyGroup(500, appDeny({}))]);
    expect(finding?.message).toContain("not defined");
  });

  it("gathers one finding per Deny rule and cluster", () => {
    const findings = findShadowing(managed, [denyGroup(200, appDeny({ targetFqdns: ["*"] }))]);
    expect(findings).toHaveLength(1);
    const https443 = managed.ruleCollections
      .flatMap((c) => c.rules ?? [])
      .filter((r) => r.name.startsWith("app-https-443-"));
    expect(https443.length).toBeGreaterThan(0);
    const count = https443.length === 1 ? "1 required rule" : `${https443.length} required rules`;
    expect(findings[0]?.message).toContain(`${count} shared by the clusters whose node subnets are`);
  });
});

// Azure's REST spec makes a collection's priority optional, and its action's type too: foreign groups
// may hold such collections. The check reads them like any other and never fails on them.
describe("findShadowing with foreign collections as the REST spec allows them", () => {
  const withoutPriority = (priority: number, rule: RuleBody): RuleCollectionGroup => {
    const group = denyGroup(priority, rule);
    return {
      ...group,
      ruleCollections: group.ruleCollections.map(({ priority: _, ...rest }) => rest),
    };
  };

  it("a Deny collection without a priority still shadows, by its group's priority", () => {
    const group = withoutPriority(200, appDeny({}));
    expect(group.ruleCollections[0]).not.toHaveProperty("priority");
    const findings = findShadowing(managed, [group]);
    expect(findings.map((f) => f.location)).toEqual(["other/c/d"]);
    expect(findings[0]?.message).toContain("aks-egress-shared-app/app-https-443-");
    expect(findShadowing(managed, [withoutPriority(600, appDeny({}))])).toEqual([]);
  });

  it("a collection with a null priority or an action without a type is read, not a crash", () => {
    const odd = {
      name: "odd",
      priority: 100,
      ruleCollections: [
        { ruleCollectionType: "FirewallPolicyNatRuleCollection", name: "nat", priority: null, action: {} },
        { ruleCollectionType: "FirewallPolicyFilterRuleCollection", name: "bare", rules: [appDeny({})] },
      ],
    } as unknown as RuleCollectionGroup;
    expect(() => findShadowing(managed, [odd, withoutPriority(200, appDeny({}))])).not.toThrow();
    expect(findShadowing(managed, [odd])).toEqual([]);
  });

  it("plans a policy whose foreign and managed groups hold collections without a priority", () => {
    const a = cluster("a");
    const first = planPolicy({ clusters: [a], policy: policy([]), settings });
    if (first.body === undefined) throw new Error("no body");
    const handAdded: RuleCollection = {
      ruleCollectionType: "FirewallPolicyFilterRuleCollection",
      name: "hand-added",
      action: { type: "Allow" },
      rules: [appDeny({ name: "by-hand" })],
    };
    const managedAsRead = { ...first.body, ruleCollections: [...first.body.ruleCollections, handAdded] };
    const plan = planPolicy({
      clusters: [a],
      policy: policy([managedAsRead, withoutPriority(200, appDeny({}))]),
      settings,
    });
    expect(plan.changes).toEqual([
      expect.objectContaining({ kind: "remove", collection: "hand-added", rule: "by-hand" }),
    ]);
    expect(plan.findings.map((f) => f.code)).toContain("SHADOWED_BY_DENY");
    expect(plan.body?.ruleCollections.every((c) => typeof c.priority === "number")).toBe(true);
  });
});
