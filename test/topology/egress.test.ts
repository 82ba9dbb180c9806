// The route-derived mapping, pure: each finding, the secured-hub case, the path as text.
import { describe, expect, it } from "vitest";
import {
  type AzureFirewallFacts,
  type ClusterEgress,
  type ClusterRouting,
  deriveEgress,
  type EgressInput,
  formatClusterEgress,
  formatEgressPath,
  type NetworkTopology,
  type RouteTableFacts,
  routeEvidence,
  type SubnetRouting,
} from "../../topology";
import {
  FIREWALL_IP,
  HUB_FIREWALL_IP,
  HUB_SUB,
  IDS,
  LEGACY_FIREWALL_IP,
  SEED_FACTS,
  SPOKE_SUB,
  UNKNOWN_APPLIANCE_IP,
} from "./estate";

const key = (id: string) => id.toLowerCase();
const byId = <T extends { id: string }>(...items: T[]): Record<string, T> =>
  Object.fromEntries(items.map((item) => [key(item.id), item]));

function table(
  id: string,
  routes: RouteTableFacts["routes"],
  disableBgpRoutePropagation = true,
): RouteTableFacts {
  return { id, name: id.split("/").at(-1) ?? id, routes, disableBgpRoutePropagation };
}
const defaultVia = (nextHopType: string, nextHopIpAddress?: string) => ({
  name: "default",
  addressPrefix: "0.0.0.0/0",
  nextHopType,
  ...(nextHopIpAddress ? { nextHopIpAddress } : {}),
});

const { firewall, legacyFirewall, hubFirewall, hub } = SEED_FACTS;

function topology(overrides: Partial<NetworkTopology> = {}): NetworkTopology {
  return {
    subscriptions: [SPOKE_SUB, HUB_SUB],
    routeTables: byId(
      table(IDS.rtToFirewall, [defaultVia("VirtualAppliance", FIREWALL_IP)]),
      table(IDS.rtInternet, [defaultVia("Internet")]),
      table(IDS.rtNoDefault, [
        {
          name: "spokes",
          addressPrefix: "10.0.0.0/8",
          nextHopType: "VirtualAppliance",
          nextHopIpAddress: FIREWALL_IP,
        },
      ]),
      table(IDS.rtUnknownAppliance, [defaultVia("VirtualAppliance", UNKNOWN_APPLIANCE_IP)]),
      table(IDS.rtLegacy, [defaultVia("VirtualAppliance", LEGACY_FIREWALL_IP)]),
    ),
    firewalls: byId(firewall, legacyFirewall, hubFirewall),
    virtualHubs: byId(hub),
    unread: [],
    ...overrides,
  };
}

const SUBNETS: Record<string, SubnetRouting> = {
  [key(IDS.snetRouted)]: { prefixes: ["10.20.0.0/22"], routeTableId: IDS.rtToFirewall },
  [key(IDS.snetRoutedUser)]: { prefixes: ["10.20.4.0/22"], routeTableId: IDS.rtToFirewall },
  [key(IDS.snetInternet)]: { prefixes: ["10.20.8.0/24"], routeTableId: IDS.rtInternet },
  [key(IDS.snetNoTable)]: { prefixes: ["10.20.9.0/24"] },
  [key(IDS.snetNoDefault)]: { prefixes: ["10.20.10.0/24"], routeTableId: IDS.rtNoDefault },
  [key(IDS.snetUnknownAppliance)]: { prefixes: ["10.20.11.0/24"], routeTableId: IDS.rtUnknownAppliance },
  [key(IDS.snetLegacy)]: { prefixes: ["10.20.12.0/24"], routeTableId: IDS.rtLegacy },
  [key(IDS.snetVwan)]: { prefixes: ["10.30.0.0/22"] },
};

const CLUSTER = `/subscriptions/${SPOKE_SUB}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-1`;

function cluster(
  pools: Record<string, string | undefined>,
  outboundType = "userDefinedRouting",
): ClusterRouting {
  return {
    id: CLUSTER,
    name: "aks-1",
    outboundType,
    agentPools: Object.entries(pools).map(([name, vnetSubnetId]) => ({
      name,
      ...(vnetSubnetId ? { vnetSubnetId } : {}),
    })),
  };
}

function derive(clusterRouting: ClusterRouting, input: Partial<EgressInput> = {}): ClusterEgress {
  const [egress] = deriveEgress({
    clusters: [clusterRouting],
    subnets: SUBNETS,
    topology: topology(),
    policiesInScope: [IDS.policy, IDS.vwanPolicy],
    ...input,
  });
  if (egress === undefined) throw new Error("no egress derived");
  return egress;
}

describe("a pool routed to an Azure Firewall", () => {
  it("follows subnet → route table → default route → firewall by private IP → policy", () => {
    const egress = derive(cluster({ system: IDS.snetRouted, user: IDS.snetRoutedUser }));
    expect(egress.routedPolicyId).toBe(IDS.policy);
    expect(egress.routedPolicyInScope).toBe(true);
    expect(egress.findings).toEqual([]);
    expect(egress.pools[0]).toEqual({
      pool: "system",
      subnetId: IDS.snetRouted,
      subnetPrefixes: ["10.20.0.0/22"],
      routeTableId: IDS.rtToFirewall,
      defaultRoute: defaultVia("VirtualAppliance", FIREWALL_IP),
      firewallId: IDS.firewall,
      firewallPolicyId: IDS.policy,
      outcome: "firewall",
    });
    expect(formatClusterEgress(egress)).toEqual([
      "aks-1: its routes lead to policy fw-policy-hub",
      "  pool system: subnet snet-routed (10.20.0.0/22) → route table rt-to-firewall → 0.0.0.0/0 via VirtualAppliance 10.0.1.4 → Azure Firewall fw-hub-weu → policy fw-policy-hub",
      "  pool user: subnet snet-routed-user (10.20.4.0/22) → route table rt-to-firewall → 0.0.0.0/0 via VirtualAppliance 10.0.1.4 → Azure Firewall fw-hub-weu → policy fw-policy-hub",
    ]);
  });

  it("matches IDs whatever their casing", () => {
    const egress = derive(
      cluster({ system: IDS.snetRouted.replace("resourceGroups", "resourcegroups").toUpperCase() }),
    );
    expect(egress.pools[0]?.outcome).toBe("firewall");
  });

  it("only 0.0.0.0/0 decides: a more specific route elsewhere does not matter", () => {
    const routes = [
      { name: "monitor", addressPrefix: "AzureMonitor", nextHopType: "Internet" },
      defaultVia("VirtualAppliance", FIREWALL_IP),
    ];
    const egress = derive(cluster({ system: IDS.snetRouted }), {
      topology: topology({ routeTables: byId(table(IDS.rtToFirewall, routes)) }),
    });
    expect(egress.routedPolicyId).toBe(IDS.policy);
  });
});

describe("EGRESS_BYPASSES_FIREWALL", () => {
  it.each([
    [
      "no route table",
      IDS.snetNoTable,
      "the subnet has no route table",
      "subnet snet-no-table, no route table",
      "no route table → Internet, around the firewall",
    ],
    [
      "no default route",
      IDS.snetNoDefault,
      "route table rt-no-default has no 0.0.0.0/0 route",
      "subnet snet-no-default, route table rt-no-default",
      "route table rt-no-default → no 0.0.0.0/0 route → Internet, around the firewall",
    ],
    [
      "next hop Internet",
      IDS.snetInternet,
      "its 0.0.0.0/0 route in rt-internet has next hop Internet",
      "subnet snet-internet, route table rt-internet",
      "route table rt-internet → 0.0.0.0/0 via Internet → Internet, around the firewall",
    ],
  ])("%s", (_case, subnetId, reason, where, path) => {
    const egress = derive(cluster({ system: IDS.snetRouted, spot: subnetId }));
    expect(egress.routedPolicyId).toBe(IDS.policy);
    expect(egress.findings).toHaveLength(1);
    const [finding] = egress.findings;
    expect(finding).toMatchObject({
      code: "EGRESS_BYPASSES_FIREWALL",
      severity: "warning",
      clusterId: CLUSTER,
      pool: "spot",
      subnetId,
    });
    expect(finding?.message).toContain(`aks-1: pool spot (${where})`);
    expect(finding?.message).toContain(reason);
    expect(formatEgressPath(egress.pools[1] as never)).toContain(path);
  });

  it("is left to OUTBOUND_NOT_UDR for a cluster that does not use user-defined routing; the route evidence goes beside it", () => {
    const egress = derive(cluster({ system: IDS.snetNoTable }, "loadBalancer"));
    expect(egress.findings).toEqual([]);
    expect(egress.outboundType).toBe("loadBalancer");
    expect(routeEvidence(egress)).toBe(
      "routes: pool system: subnet snet-no-table (10.20.9.0/24) → no route table → Internet, around the firewall",
    );
    // Other findings still stand: the route leads to an appliance that is not a known firewall.
    expect(
      derive(cluster({ system: IDS.snetUnknownAppliance }, "loadBalancer")).findings.map((f) => f.code),
    ).toEqual(["DEFAULT_ROUTE_NOT_A_FIREWALL"]);
  });
});

describe("DEFAULT_ROUTE_NOT_A_FIREWALL", () => {
  it("a virtual appliance IP that no Azure Firewall read has", () => {
    const egress = derive(cluster({ system: IDS.snetUnknownAppliance }));
    expect(egress.routedPolicyId).toBeUndefined();
    expect(egress.findings).toMatchObject([
      {
        code: "DEFAULT_ROUTE_NOT_A_FIREWALL",
        pool: "system",
        subnetId: IDS.snetUnknownAppliance,
        routeTableId: IDS.rtUnknownAppliance,
      },
    ]);
    expect(egress.findings[0]?.message).toBe(
      `aks-1: pool system (subnet snet-unknown-appliance, route table rt-unknown-appliance) does not send internet traffic to a known Azure Firewall: no Azure Firewall in the subscriptions read (${SPOKE_SUB}, ${HUB_SUB}) has the private IP ${UNKNOWN_APPLIANCE_IP}.`,
    );
    expect(formatEgressPath(egress.pools[0] as never)).toBe(
      `subnet snet-unknown-appliance (10.20.11.0/24) → route table rt-unknown-appliance → 0.0.0.0/0 via VirtualAppliance ${UNKNOWN_APPLIANCE_IP} → no known Azure Firewall at ${UNKNOWN_APPLIANCE_IP}`,
    );
  });

  it.each([
    ["VirtualNetworkGateway", "forced tunnelling on-premises"],
    ["None", "is dropped"],
  ])("a default route to %s", (hop, words) => {
    const egress = derive(cluster({ system: IDS.snetRouted }), {
      topology: topology({ routeTables: byId(table(IDS.rtToFirewall, [defaultVia(hop)])) }),
    });
    expect(egress.findings.map((f) => f.code)).toEqual(["DEFAULT_ROUTE_NOT_A_FIREWALL"]);
    expect(egress.findings[0]?.message).toContain(words);
  });
});

describe("POOLS_ROUTE_TO_DIFFERENT_FIREWALLS", () => {
  it("pools behind firewalls with different policies: each named, no policy derived", () => {
    const egress = derive(cluster({ system: IDS.snetRouted, legacy: IDS.snetLegacy }), {
      policiesInScope: [IDS.policy, IDS.legacyPolicy],
    });
    expect(egress.routedPolicyId).toBeUndefined();
    expect(egress.routedPolicyInScope).toBe(false);
    expect(egress.findings.map((f) => f.code)).toEqual(["POOLS_ROUTE_TO_DIFFERENT_FIREWALLS"]);
    expect(egress.findings[0]?.message).toBe(
      "aks-1: its pools route to firewalls with different policies (pool system (subnet snet-routed, route table rt-to-firewall) → Azure Firewall fw-hub-weu → policy fw-policy-hub; pool legacy (subnet snet-legacy, route table rt-legacy) → Azure Firewall fw-legacy-weu → policy fw-policy-legacy); its rules would be needed in each, so no policy is derived from its routes.",
    );
    expect(formatClusterEgress(egress)[0]).toBe("aks-1: its routes lead to no single firewall policy");
  });

  it("different firewalls that share one policy are fine: the rules live in the policy", () => {
    const shared = { ...legacyFirewall, firewallPolicyId: IDS.policy };
    const egress = derive(cluster({ system: IDS.snetRouted, legacy: IDS.snetLegacy }), {
      topology: topology({ firewalls: byId(firewall, shared) }),
    });
    expect(egress.findings).toEqual([]);
    expect(egress.routedPolicyId).toBe(IDS.policy);
  });
});

describe("FIREWALL_POLICY_NOT_IN_SCOPE and FIREWALL_WITHOUT_POLICY", () => {
  it("a route to a firewall whose policy this deployment does not manage", () => {
    const egress = derive(cluster({ system: IDS.snetLegacy }));
    expect(egress.routedPolicyId).toBe(IDS.legacyPolicy);
    expect(egress.routedPolicyInScope).toBe(false);
    expect(egress.findings).toMatchObject([
      {
        code: "FIREWALL_POLICY_NOT_IN_SCOPE",
        pool: "system",
        subnetId: IDS.snetLegacy,
        routeTableId: IDS.rtLegacy,
        firewallId: IDS.legacyFirewall,
        firewallPolicyId: IDS.legacyPolicy,
        location: "system/snet-legacy/rt-legacy",
      },
    ]);
    expect(egress.findings[0]?.message).toContain(
      "policy fw-policy-legacy is not one this deployment manages",
    );
    expect(formatClusterEgress(egress)[0]).toBe(
      "aks-1: its routes lead to policy fw-policy-legacy (not in scope)",
    );
  });

  it("a route to a firewall with classic rules and no policy", () => {
    const { firewallPolicyId: _none, ...classic } = firewall;
    const egress = derive(cluster({ system: IDS.snetRouted }), {
      topology: topology({ firewalls: byId(classic) }),
    });
    expect(egress.routedPolicyId).toBeUndefined();
    expect(egress.findings.map((f) => f.code)).toEqual(["FIREWALL_WITHOUT_POLICY"]);
    expect(formatEgressPath(egress.pools[0] as never)).toMatch(
      /→ Azure Firewall fw-hub-weu → no firewall policy$/,
    );
  });
});

describe("Virtual WAN secured hub", () => {
  it("a network connected to a hub whose routing intent sends Internet traffic to its firewall: no route table needed", () => {
    const egress = derive(cluster({ system: IDS.snetVwan }));
    expect(egress.findings).toEqual([]);
    expect(egress.routedPolicyId).toBe(IDS.vwanPolicy);
    expect(egress.pools[0]).toMatchObject({
      outcome: "firewall",
      securedHub: { hubId: IDS.hub, connectionId: IDS.hubConnection, routingPolicy: "InternetTraffic" },
      firewallId: IDS.hubFirewall,
    });
    expect(formatEgressPath(egress.pools[0] as never)).toBe(
      "subnet snet-vwan (10.30.0.0/22) → no route table → virtual hub vhub-weu (routing intent InternetTraffic) → Azure Firewall fw-vhub-weu → policy fw-policy-vwan",
    );
  });

  it("a user-defined route to the hub firewall's private IP finds it too", () => {
    const egress = derive(cluster({ system: IDS.snetRouted }), {
      topology: topology({
        routeTables: byId(table(IDS.rtToFirewall, [defaultVia("VirtualAppliance", HUB_FIREWALL_IP)])),
      }),
    });
    expect(egress.pools[0]).toMatchObject({ outcome: "firewall", firewallId: IDS.hubFirewall });
    expect(egress.routedPolicyId).toBe(IDS.vwanPolicy);
  });

  it("a subnet's own 0.0.0.0/0 wins over the hub's", () => {
    const subnets = {
      ...SUBNETS,
      [key(IDS.snetVwan)]: { prefixes: ["10.30.0.0/22"], routeTableId: IDS.rtInternet },
    };
    const egress = derive(cluster({ system: IDS.snetVwan }), { subnets });
    expect(egress.findings.map((f) => f.code)).toEqual(["EGRESS_BYPASSES_FIREWALL"]);
  });

  it("a route table without a default route learns the hub's, unless it does not propagate gateway routes", () => {
    const subnets = {
      ...SUBNETS,
      [key(IDS.snetVwan)]: { prefixes: ["10.30.0.0/22"], routeTableId: IDS.rtNoDefault },
    };
    const propagating = topology({
      routeTables: byId(
        table(IDS.rtNoDefault, [{ name: "x", addressPrefix: "10.0.0.0/8", nextHopType: "VnetLocal" }], false),
      ),
    });
    expect(derive(cluster({ system: IDS.snetVwan }), { subnets, topology: propagating }).routedPolicyId).toBe(
      IDS.vwanPolicy,
    );
    const blocked = derive(cluster({ system: IDS.snetVwan }), { subnets });
    expect(blocked.findings.map((f) => f.code)).toEqual(["EGRESS_BYPASSES_FIREWALL"]);
  });

  it("a connection that does not propagate the default route bypasses the hub", () => {
    const noDefault = {
      ...hub,
      connections: hub.connections.map((c) => ({ ...c, enableInternetSecurity: false })),
    };
    const egress = derive(cluster({ system: IDS.snetVwan }), {
      topology: topology({ virtualHubs: byId(noDefault) }),
    });
    expect(egress.findings.map((f) => f.code)).toEqual(["EGRESS_BYPASSES_FIREWALL"]);
    expect(egress.findings[0]?.message).toContain("does not propagate the hub's default route");
  });

  it("a hub with no routing intent for Internet traffic: not known, and said so", () => {
    const privateOnly = {
      ...hub,
      routingPolicies: hub.routingPolicies.filter((p) => p.name === "PrivateTraffic"),
    };
    const egress = derive(cluster({ system: IDS.snetVwan }), {
      topology: topology({ virtualHubs: byId(privateOnly) }),
    });
    expect(egress.pools[0]?.outcome).toBe("unknown");
    expect(egress.findings.map((f) => f.code)).toEqual(["HUB_ROUTING_NOT_READ"]);
    expect(egress.findings[0]?.message).toContain(
      "aks-1: pool system (subnet snet-vwan, no route table, virtual hub vhub-weu)",
    );
  });

  it("a hub whose routing intent sends Internet traffic to something other than an Azure Firewall", () => {
    const nva = `/subscriptions/${HUB_SUB}/resourceGroups/rg-vwan-weu/providers/Microsoft.Network/networkVirtualAppliances/nva-1`;
    const toNva = {
      ...hub,
      routingPolicies: [{ name: "InternetTraffic", destinations: ["Internet"], nextHop: nva }],
    };
    const egress = derive(cluster({ system: IDS.snetVwan }), {
      topology: topology({ virtualHubs: byId(toNva) }),
    });
    expect(egress.findings.map((f) => f.code)).toEqual(["DEFAULT_ROUTE_NOT_A_FIREWALL"]);
    expect(egress.findings[0]?.message).toContain("nva-1, which is no Azure Firewall read");
  });
});

describe("firewalls that share a private IP", () => {
  const twin: AzureFirewallFacts = {
    ...legacyFirewall,
    id: IDS.legacyFirewall.replace("fw-legacy-weu", "fw-twin"),
    name: "fw-twin",
    privateIpAddresses: [FIREWALL_IP],
    virtualNetworkId: IDS.hubVnet.replace("vnet-hub-weu", "vnet-other-hub"),
  };

  it("the one the subnet's network is peered with is meant", () => {
    const egress = derive(cluster({ system: IDS.snetRouted }), {
      topology: topology({ firewalls: byId(firewall, twin) }),
      virtualNetworks: {
        [key(IDS.spokeVnet)]: {
          id: IDS.spokeVnet,
          addressPrefixes: [],
          dnsServers: [],
          peeredNetworkIds: [IDS.hubVnet],
        },
      },
    });
    expect(egress.pools[0]).toMatchObject({ outcome: "firewall", firewallId: IDS.firewall });
  });

  it("DEFAULT_ROUTE_AMBIGUOUS when the networks do not tell them apart", () => {
    const egress = derive(cluster({ system: IDS.snetRouted }), {
      topology: topology({ firewalls: byId(firewall, twin) }),
    });
    expect(egress.routedPolicyId).toBeUndefined();
    expect(egress.findings.map((f) => f.code)).toEqual(["DEFAULT_ROUTE_AMBIGUOUS"]);
    expect(egress.findings[0]?.message).toContain("fw-hub-weu, fw-twin all have the private IP 10.0.1.4");
  });
});

describe("what was not read", () => {
  it("ROUTE_TABLE_NOT_READ: a route table outside the subscriptions read", () => {
    const egress = derive(cluster({ system: IDS.snetRouted }), { topology: topology({ routeTables: {} }) });
    expect(egress.pools[0]?.outcome).toBe("unknown");
    expect(egress.findings).toMatchObject([
      {
        code: "ROUTE_TABLE_NOT_READ",
        pool: "system",
        subnetId: IDS.snetRouted,
        routeTableId: IDS.rtToFirewall,
      },
    ]);
    expect(formatEgressPath(egress.pools[0] as never)).toBe(
      "subnet snet-routed (10.20.0.0/22) → route table rt-to-firewall → not known (route table rt-to-firewall not read)",
    );
  });

  it.each([
    [
      "its subscription is not read",
      { subscriptions: [HUB_SUB] },
      `its subscription ${SPOKE_SUB} is not in scope`,
    ],
    [
      "its subscription's list was refused",
      { unread: [{ subscriptionId: SPOKE_SUB, what: "routeTables", status: 403 }] },
      `the route tables of ${SPOKE_SUB} could not be listed (403)`,
    ],
    [
      "the list does not show it",
      {},
      "its subscription's list does not show it: deleted, or newer than the list",
    ],
  ])("ROUTE_TABLE_NOT_READ says why: %s", (_case, overrides, why) => {
    const egress = derive(cluster({ system: IDS.snetRouted }), {
      topology: topology({ routeTables: {}, ...overrides }),
    });
    expect(egress.findings[0]?.message).toContain(`which was not read (${why})`);
  });

  it("DEFAULT_ROUTE_NOT_A_FIREWALL says which firewall lists were refused", () => {
    const egress = derive(cluster({ system: IDS.snetRouted }), {
      topology: topology({
        firewalls: {},
        unread: [{ subscriptionId: HUB_SUB, what: "azureFirewalls", status: 403 }],
      }),
    });
    expect(egress.findings[0]?.message).toContain(
      `has the private IP ${FIREWALL_IP}; the firewalls of ${HUB_SUB} could not be listed (403).`,
    );
  });

  it("pools without a subnet, or whose subnet was not read, have no path and no finding of their own", () => {
    const missing = IDS.snetRouted.replace("snet-routed", "snet-gone");
    const egress = derive(cluster({ system: IDS.snetRouted, managed: undefined, gone: missing }));
    expect(egress.findings).toEqual([]);
    expect(egress.routedPolicyId).toBe(IDS.policy);
    expect(egress.pools.slice(1).map((p) => [p.outcome, formatEgressPath(p)])).toEqual([
      ["unknown", "no subnet of its own (managed virtual network)"],
      ["unknown", "subnet snet-gone → not known (subnet not read)"],
    ]);
  });
});
