import { describe, expect, it } from "vitest";
import {
  type ApplicationRuleBody,
  canonicalJson,
  type NetworkRuleBody,
  normaliseGroup,
  normaliseRule,
  type RuleBody,
  type RuleCollection,
  type RuleCollectionGroup,
  sameGroup,
} from "../../drift";
import { type DiffContext, diffGroups, FOREIGN_RULE } from "../../drift/diff";
import { byCollectionPriority, normaliseCollection } from "../../drift/normalise";

const app: ApplicationRuleBody = {
  ruleType: "ApplicationRule",
  name: "app-mcr.microsoft.com",
  description:
    "/subscriptions/s/resourcegroups/rg/providers/microsoft.containerservice/managedclusters/a | base",
  sourceAddresses: ["10.1.0.0/22", "10.2.0.0/22"],
  protocols: [
    { protocolType: "Http", port: 80 },
    { protocolType: "Https", port: 443 },
  ],
  targetFqdns: ["mcr.microsoft.com", "*.data.mcr.microsoft.com"],
};

const net: NetworkRuleBody = {
  ruleType: "NetworkRule",
  name: "net-tcp-azurecloud.westeurope",
  ipProtocols: ["TCP", "UDP"],
  sourceAddresses: ["10.1.0.0/22"],
  destinationAddresses: ["AzureCloud.westeurope"],
  destinationPorts: ["22", "9000"],
};

const same = (a: RuleBody, b: RuleBody) =>
  canonicalJson(normaliseRule(a)) === canonicalJson(normaliseRule(b));
// Rules as the service may hand them back: widened on purpose to carry fields and casings it uses.
const asRule = (value: Record<string, unknown>) => value as unknown as RuleBody;
// Collections as the service may hand them back (e.g. a JSON null priority).
const asCollection = (value: Record<string, unknown>) => value as unknown as RuleCollection;

describe("normaliseRule: no drift from what the service fills in, reorders or recases", () => {
  it.each<[string, RuleBody, RuleBody]>([
    ["host name case", app, { ...app, targetFqdns: ["MCR.Microsoft.com", "*.DATA.mcr.microsoft.com"] }],
    ["host order", app, { ...app, targetFqdns: ["*.data.mcr.microsoft.com", "mcr.microsoft.com"] }],
    [
      "source order and duplicates",
      app,
      { ...app, sourceAddresses: ["10.2.0.0/22", "10.1.0.0/22", "10.2.0.0/22"] },
    ],
    ["protocol order", app, { ...app, protocols: [...(app.protocols ?? [])].reverse() }],
    [
      "protocol type case",
      app,
      asRule({
        ...app,
        protocols: [
          { protocolType: "https", port: 443 },
          { protocolType: "HTTP", port: 80 },
        ],
      }),
    ],
    [
      "port as text",
      app,
      asRule({
        ...app,
        protocols: [
          { protocolType: "Http", port: "80" },
          { protocolType: "Https", port: "443" },
        ],
      }),
    ],
    ["rule name case", app, { ...app, name: "APP-MCR.microsoft.com" }],
    [
      "empty defaults the service fills in",
      app,
      { ...app, sourceIpGroups: [], fqdnTags: [], targetUrls: [], webCategories: [], terminateTLS: false },
    ],
    [
      "null and unknown empty fields",
      app,
      asRule({ ...app, fqdnTags: null, httpHeadersToInsert: [], webCategories: null }),
    ],
    [
      "read-only fields",
      app,
      asRule({ ...app, etag: "x", provisioningState: "Succeeded", id: "/x", size: "1 KB" }),
    ],
    ["port order (numeric)", net, { ...net, destinationPorts: ["9000", "22"] }],
    ["IP protocol case and order", net, asRule({ ...net, ipProtocols: ["udp", "tcp"] })],
    ["service tag case", net, { ...net, destinationAddresses: ["azurecloud.WestEurope"] }],
    [
      "empty destination lists",
      net,
      { ...net, destinationFqdns: [], destinationIpGroups: [], sourceIpGroups: [] },
    ],
    ["missing vs empty description", { ...net, description: "" }, net],
  ])("%s", (_, a, b) => {
    expect(same(a, b)).toBe(true);
  });
});

describe("normaliseRule: real differences stay differences", () => {
  it.each<[string, RuleBody, RuleBody]>([
    ["a port", net, { ...net, destinationPorts: ["9000"] }],
    ["a source", app, { ...app, sourceAddresses: ["10.1.0.0/22"] }],
    ["a target", app, { ...app, targetFqdns: ["mcr.microsoft.com"] }],
    ["a protocol", app, { ...app, protocols: [{ protocolType: "Https", port: 443 }] }],
    ["the description", app, { ...app, description: "something else" }],
    ["TLS inspection on", app, { ...app, terminateTLS: true }],
    ["an IP group", net, { ...net, sourceIpGroups: ["/subscriptions/s/ipGroups/g"] }],
    ["the rule type", net, asRule({ ...net, ruleType: "NatRule" })],
  ])("%s", (_, a, b) => {
    expect(same(a, b)).toBe(false);
  });
});

describe("normaliseGroup", () => {
  const group: RuleCollectionGroup = {
    name: "AKS-Egress-Guard",
    priority: 500,
    etag: "x",
    provisioningState: "Succeeded",
    id: "/x",
    ruleCollections: [
      {
        ruleCollectionType: "FirewallPolicyFilterRuleCollection",
        name: "b",
        priority: 200,
        action: { type: "allow" },
        rules: [net, app],
      },
      {
        ruleCollectionType: "FirewallPolicyFilterRuleCollection",
        name: "a",
        priority: 100,
        action: { type: "Allow" },
        rules: [],
      },
    ],
  };

  it("drops read-only fields, sorts collections by priority and rules by name, folds case", () => {
    const canonical = normaliseGroup(group);
    expect(Object.keys(canonical).sort()).toEqual(["name", "priority", "ruleCollections"]);
    expect(canonical.name).toBe("aks-egress-guard");
    expect(canonical.ruleCollections.map((c) => c.name)).toEqual(["a", "b"]);
    expect(canonical.ruleCollections[1]?.action).toBe("Allow");
    expect(canonical.ruleCollections[1]?.rules.map((r) => r.name)).toEqual([
      "app-mcr.microsoft.com",
      "net-tcp-azurecloud.westeurope",
    ]);
  });

  it("treats a missing group as an empty one, and only as an empty one", () => {
    expect(sameGroup(undefined, { name: "g", priority: 500, ruleCollections: [] })).toBe(true);
    expect(sameGroup(undefined, group)).toBe(false);
    expect(sameGroup(group, structuredClone(group))).toBe(true);
  });
});

// Azure's REST spec makes a collection's priority optional: a foreign collection (or one put into the
// managed group by hand) may come back without one. It must compare, sort and diff without crashing,
// and be ordered the same whatever order it was read in: after every collection with a priority.
describe("collections without a priority", () => {
  const collection = (name: string, priority?: number): RuleCollection => ({
    ruleCollectionType: "FirewallPolicyFilterRuleCollection",
    name,
    ...(priority === undefined ? {} : { priority }),
    action: { type: "Allow" },
    rules: [{ ...net, name: `rule-${name}` }],
  });
  const group = (...ruleCollections: RuleCollection[]): RuleCollectionGroup => ({
    name: "aks-egress-guard",
    priority: 500,
    ruleCollections,
  });
  const context: DiffContext = {
    presentClusters: new Set(),
    ownedCollections: new Map(),
    dnsProxyEnabled: true,
  };

  it("orders a collection without a priority after every one with, then by name", () => {
    const canonical = normaliseGroup(
      group(collection("none-b"), collection("late", 300), collection("none-a"), collection("early", 100)),
    );
    expect(canonical.ruleCollections.map((c) => c.name)).toEqual(["early", "late", "none-a", "none-b"]);
    expect(canonical.ruleCollections.map((c) => c.priority)).toEqual([100, 300, undefined, undefined]);
    expect("priority" in (canonical.ruleCollections[2] ?? {})).toBe(false);
  });

  it("compares equal whatever order the service returns the collections in", () => {
    const a = group(collection("x"), collection("y", 200), collection("z", 100), collection("w", 300));
    const b = group(collection("z", 100), collection("y", 200), collection("w", 300), collection("x"));
    expect(sameGroup(a, b)).toBe(true);
    expect(canonicalJson(normaliseGroup(a))).toBe(canonicalJson(normaliseGroup(b)));
  });

  it("reads a JSON null priority as none", () => {
    const withNull = asCollection({ ...collection("x"), priority: null });
    expect(normaliseCollection(withNull)).toEqual(normaliseCollection(collection("x")));
  });

  it("a missing priority is unlike any number: giving or dropping one is drift", () => {
    expect(sameGroup(group(collection("x")), group(collection("x", 100)))).toBe(false);
    const changes = diffGroups(group(collection("x")), group(collection("x", 100)), context);
    expect(changes).toEqual([
      { kind: "modify", collection: "x", rule: "", fields: ["priority: (none) -> 100"] },
    ]);
    const back = diffGroups(group(collection("x", 100)), group(collection("x")), context);
    expect(back[0]?.fields).toEqual(["priority: 100 -> (none)"]);
  });

  it("lists the changes of a collection without a priority after those of numbered ones", () => {
    const current = group(collection("foreign"), collection("b", 200));
    const desired = group(collection("a", 300), collection("b", 100));
    const changes = diffGroups(current, desired, context);
    expect(changes.map((c) => `${c.kind} ${c.collection}/${c.rule}`)).toEqual([
      "modify b/",
      "add a/rule-a",
      `remove foreign/rule-foreign`,
    ]);
    expect(changes[2]?.reason).toBe(FOREIGN_RULE);
  });

  it("byCollectionPriority: numbers ascending, none last, none equal to none", () => {
    const sorted = [undefined, 300, 100, undefined, 200].sort(byCollectionPriority);
    expect(sorted).toEqual([100, 200, 300, undefined, undefined]);
    expect(byCollectionPriority(undefined, undefined)).toBe(0);
    expect(byCollectionPriority(65000, undefined)).toBeLessThan(0);
  });
});
