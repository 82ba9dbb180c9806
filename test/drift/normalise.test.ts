import { describe, expect, it } from "vitest";
import {
  type ApplicationRuleBody,
  canonicalJson,
  type NetworkRuleBody,
  normaliseGroup,
  normaliseRule,
  type RuleBody,
  type RuleCollectionGroup,
  sameGroup,
} from "../../drift";

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
