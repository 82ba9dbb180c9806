// Which clusters a policy serves when the routes are read (issue 13), and that every egress finding
// reaches the plan: the pass's own gathering and planning (checkPolicy), the real SDK, the emulator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readEstateClusters } from "../../functions/http/estate-clusters";
import type { ArmEmulator, ArmResource, EmulatorSeed } from "../../local/arm-emulator";
import { startArmEmulator } from "../../local/arm-emulator";
import { checkPolicy, type PassSettings } from "../../orchestrations/activities/plan";
import { EGRESS_FINDINGS } from "../../topology";
import { passSettings } from "../helpers/pass-settings";
import { emulatorConnection } from "../local/arm-emulator-helpers";
import { clusterResource, HUB_SUB, IDS, SPOKE_SUB, topologySeed } from "../topology/estate";

const net = (subscription: string, group: string, type: string, name: string) =>
  `/subscriptions/${subscription}/resourceGroups/${group}/providers/Microsoft.Network/${type}/${name}`;
const EXTRA = {
  rtNoPolicy: net(SPOKE_SUB, "rg-spoke-weu", "routeTables", "rt-no-policy"),
  rtAmbiguous: net(SPOKE_SUB, "rg-spoke-weu", "routeTables", "rt-ambiguous"),
  rtMissing: net(SPOKE_SUB, "rg-spoke-weu", "routeTables", "rt-deleted"),
  fwNoPolicy: net(HUB_SUB, "rg-hub-weu", "azureFirewalls", "fw-classic"),
  fwTwinA: net(HUB_SUB, "rg-other", "azureFirewalls", "fw-twin-a"),
  fwTwinB: net(HUB_SUB, "rg-other", "azureFirewalls", "fw-twin-b"),
  hub2: net(HUB_SUB, "rg-vwan-weu", "virtualHubs", "vhub-neu"),
  hub2Firewall: net(HUB_SUB, "rg-vwan-weu", "azureFirewalls", "fw-vhub-neu"),
  vnet2: net(SPOKE_SUB, "rg-spoke-weu", "virtualNetworks", "vnet-spoke-neu"),
};
const SUBNETS = {
  noPolicy: `${IDS.spokeVnet}/subnets/snet-no-policy`,
  ambiguous: `${IDS.spokeVnet}/subnets/snet-ambiguous`,
  missingTable: `${IDS.spokeVnet}/subnets/snet-missing-table`,
  hub2: `${EXTRA.vnet2}/subnets/snet-neu`,
};

const vnetFirewall = (id: string, ip: string, subnetId: string, policyId?: string): ArmResource => ({
  id,
  location: "westeurope",
  properties: {
    ipConfigurations: [{ name: "ipconfig", properties: { privateIPAddress: ip, subnet: { id: subnetId } } }],
    ...(policyId ? { firewallPolicy: { id: policyId } } : {}),
  },
});

function tagged(cluster: ArmResource, policyId: string): ArmResource {
  return { ...cluster, tags: { "aks-egress-guard/firewall-policy": policyId } };
}

/** The template estate, plus what the remaining findings need. */
function seed(): EmulatorSeed {
  const base = topologySeed();
  const spoke = (base.virtualNetworks ?? [])[1] as ArmResource & {
    properties: { subnets: unknown[] };
  };
  spoke.properties.subnets.push(
    {
      id: SUBNETS.noPolicy,
      properties: { addressPrefix: "10.20.13.0/24", routeTable: { id: EXTRA.rtNoPolicy } },
    },
    {
      id: SUBNETS.ambiguous,
      properties: { addressPrefix: "10.20.14.0/24", routeTable: { id: EXTRA.rtAmbiguous } },
    },
    {
      id: SUBNETS.missingTable,
      properties: { addressPrefix: "10.20.15.0/24", routeTable: { id: EXTRA.rtMissing } },
    },
  );
  const table = (id: string, ip: string): ArmResource => ({
    id,
    location: "westeurope",
    properties: {
      disableBgpRoutePropagation: true,
      routes: [
        {
          name: "default",
          properties: { addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance", nextHopIpAddress: ip },
        },
      ],
    },
  });
  return {
    ...base,
    virtualNetworks: [
      ...(base.virtualNetworks ?? []),
      {
        id: EXTRA.vnet2,
        location: "northeurope",
        properties: {
          addressSpace: { addressPrefixes: ["10.40.0.0/16"] },
          subnets: [{ id: SUBNETS.hub2, properties: { addressPrefix: "10.40.0.0/22" } }],
        },
      },
    ],
    routeTables: [
      ...(base.routeTables ?? []),
      table(EXTRA.rtNoPolicy, "10.0.6.4"),
      table(EXTRA.rtAmbiguous, "10.9.0.4"),
    ],
    azureFirewalls: [
      ...(base.azureFirewalls ?? []),
      vnetFirewall(EXTRA.fwNoPolicy, "10.0.6.4", `${IDS.hubVnet}/subnets/AzureFirewallSubnet-classic`),
      // Two firewalls with one private IP, in networks the spoke is not peered with.
      vnetFirewall(
        EXTRA.fwTwinA,
        "10.9.0.4",
        `${net(HUB_SUB, "rg-other", "virtualNetworks", "vnet-a")}/subnets/AzureFirewallSubnet`,
        IDS.policy,
      ),
      vnetFirewall(
        EXTRA.fwTwinB,
        "10.9.0.4",
        `${net(HUB_SUB, "rg-other", "virtualNetworks", "vnet-b")}/subnets/AzureFirewallSubnet`,
        IDS.policy,
      ),
      {
        id: EXTRA.hub2Firewall,
        location: "northeurope",
        properties: {
          virtualHub: { id: EXTRA.hub2 },
          firewallPolicy: { id: IDS.vwanPolicy },
          hubIPAddresses: { privateIPAddress: "10.101.0.132" },
        },
      },
    ],
    // A secured hub without routing intent: its hub route tables decide, and they are not read.
    virtualHubs: [
      ...(base.virtualHubs ?? []),
      {
        id: EXTRA.hub2,
        location: "northeurope",
        properties: { addressPrefix: "10.101.0.0/23", azureFirewall: { id: EXTRA.hub2Firewall } },
      },
    ],
    hubVirtualNetworkConnections: [
      ...(base.hubVirtualNetworkConnections ?? []),
      {
        id: `${EXTRA.hub2}/hubVirtualNetworkConnections/conn-neu`,
        properties: { remoteVirtualNetwork: { id: EXTRA.vnet2 }, enableInternetSecurity: true },
      },
    ],
    managedClusters: [
      clusterResource("aks-routed", { system: IDS.snetRouted, user: IDS.snetRoutedUser }),
      clusterResource("aks-vwan", { system: IDS.snetVwan }),
      clusterResource("aks-bypass", { system: IDS.snetInternet }),
      clusterResource("aks-legacy", { system: IDS.snetLegacy }),
      clusterResource("aks-nva", { system: IDS.snetUnknownAppliance }),
      clusterResource("aks-split", { system: IDS.snetRouted, batch: IDS.snetVwan }),
      clusterResource("aks-lb", { system: IDS.snetNoTable }, "loadBalancer"),
      clusterResource("aks-classic", { system: SUBNETS.noPolicy }),
      clusterResource("aks-twins", { system: SUBNETS.ambiguous }),
      clusterResource("aks-unread", { system: SUBNETS.missingTable }),
      clusterResource("aks-neu", { system: SUBNETS.hub2 }),
      // Tagged with the Virtual WAN policy, routed to the hub firewall: the tag wins.
      tagged(clusterResource("aks-tagged", { system: IDS.snetRoutedUser }), IDS.vwanPolicy),
    ],
  };
}

let emulator: ArmEmulator;
beforeAll(async () => {
  emulator = await startArmEmulator({ seed: seed() });
});
afterAll(async () => emulator.close());

const settings = (extra: Partial<PassSettings> = {}) =>
  passSettings([SPOKE_SUB], [IDS.policy, IDS.vwanPolicy], extra);

async function pass(policyId: string, extra: Partial<PassSettings> = {}) {
  const { gathered, plan } = await checkPolicy(emulatorConnection(emulator), policyId, settings(extra));
  return {
    served: gathered.clusters.map((c) => c.name).sort(),
    findings: plan.findings,
    codes: (name: string) =>
      plan.findings
        .filter((f) => f.clusterId?.endsWith(`/${name}`))
        .map((f) => f.code)
        .sort(),
  };
}

describe("which policy serves a cluster, once routes are read", () => {
  it("an untagged cluster is served by the in-scope policy its routes lead to, and by no other", async () => {
    expect((await pass(IDS.policy)).served).toEqual(["aks-routed"]);
    // The tagged cluster routes to fw-policy-hub but names fw-policy-vwan: the tag wins.
    expect((await pass(IDS.vwanPolicy)).served).toEqual(["aks-tagged", "aks-vwan"]);
  });

  it("the tag wins, and the disagreement is reported with the route evidence", async () => {
    const { findings } = await pass(IDS.vwanPolicy);
    const disagreement = findings.find((f) => f.code === "TAG_DISAGREES_WITH_ROUTES");
    expect(disagreement?.clusterId).toMatch(/aks-tagged$/);
    expect(disagreement?.message).toContain(
      "names policy fw-policy-vwan, but its routes lead to policy fw-policy-hub",
    );
    expect(disagreement?.message).toContain(
      "route table rt-to-firewall → 0.0.0.0/0 via VirtualAppliance 10.0.1.4",
    );
  });

  it("routes to a policy out of scope: served by none, not even the default policy, and reported", async () => {
    const asDefault = await pass(IDS.policy, {
      defaultPolicyId: IDS.policy,
      includeUntaggedWhenDefault: true,
    });
    expect(asDefault.served).not.toContain("aks-legacy");
    expect(asDefault.codes("aks-legacy")).toEqual([EGRESS_FINDINGS.policyNotInScope]);
    // The default policy reports it; another policy in scope does not repeat it.
    const other = await pass(IDS.vwanPolicy, {
      defaultPolicyId: IDS.policy,
      includeUntaggedWhenDefault: true,
    });
    expect(other.codes("aks-legacy")).toEqual([]);
  });

  it("no route leads to a policy: as before, the default policy serves untagged clusters when told to", async () => {
    const unclaimed = [
      "aks-bypass",
      "aks-classic",
      "aks-lb",
      "aks-neu",
      "aks-nva",
      "aks-split",
      "aks-twins",
      "aks-unread",
    ];
    expect((await pass(IDS.policy)).served).toEqual(["aks-routed"]);
    expect(
      (await pass(IDS.policy, { defaultPolicyId: IDS.policy, includeUntaggedWhenDefault: true })).served,
    ).toEqual(["aks-routed", ...unclaimed].sort());
    // The clusters another policy's routes claim stay with it.
    expect(
      (await pass(IDS.vwanPolicy, { defaultPolicyId: IDS.policy, includeUntaggedWhenDefault: true })).served,
    ).toEqual(["aks-tagged", "aks-vwan"]);
  });

  it("every egress finding reaches the plan, naming cluster, pool, subnet and route table", async () => {
    const { codes, findings } = await pass(IDS.policy);
    expect(codes("aks-bypass")).toEqual([EGRESS_FINDINGS.bypass]);
    expect(codes("aks-nva")).toEqual([EGRESS_FINDINGS.notAFirewall]);
    expect(codes("aks-twins")).toEqual([EGRESS_FINDINGS.ambiguous]);
    expect(codes("aks-split")).toEqual([EGRESS_FINDINGS.differentFirewalls]);
    expect(codes("aks-legacy")).toEqual([EGRESS_FINDINGS.policyNotInScope]);
    expect(codes("aks-classic")).toEqual([EGRESS_FINDINGS.firewallWithoutPolicy]);
    expect(codes("aks-unread")).toEqual([EGRESS_FINDINGS.routeTableNotRead]);
    expect(codes("aks-neu")).toEqual([EGRESS_FINDINGS.hubRoutingNotRead]);
    // A served cluster with clean routes has none; one out of the policy's hands is not repeated here.
    expect(codes("aks-routed")).toEqual([]);
    expect(codes("aks-vwan")).toEqual([]);
    const bypass = findings.find((f) => f.code === EGRESS_FINDINGS.bypass);
    expect(bypass?.message).toBe(
      "aks-bypass: pool system (subnet snet-internet, route table rt-internet) sends internet traffic around the firewall: its 0.0.0.0/0 route in rt-internet has next hop Internet.",
    );
  });

  it("outboundType other than userDefinedRouting: the finding carries the route evidence", async () => {
    const { findings } = await pass(IDS.policy, {
      defaultPolicyId: IDS.policy,
      includeUntaggedWhenDefault: true,
    });
    const outbound = findings.find((f) => f.code === "OUTBOUND_NOT_UDR");
    expect(outbound?.clusterId).toMatch(/aks-lb$/);
    expect(outbound?.message).toContain(
      "routes: pool system: subnet snet-no-table (10.20.9.0/24) → no route table",
    );
  });
});

describe("the estate page maps clusters exactly as the passes do", () => {
  const cases: [string, Partial<PassSettings>][] = [
    ["no default policy", {}],
    [
      "the default policy takes untagged clusters",
      { defaultPolicyId: IDS.policy, includeUntaggedWhenDefault: true },
    ],
  ];
  it.each(cases)("%s: every policy's clusters, each with how it was mapped", async (_, extra) => {
    const policies = [IDS.policy, IDS.vwanPolicy];
    const before = emulator.requests().length;
    const estate = await readEstateClusters(emulatorConnection(emulator), policies, settings(extra));
    const reads = emulator.requests().length - before;
    for (const policyId of policies) {
      const shown = estate.get(policyId.toLowerCase());
      if (!shown?.read) throw new Error(`not read: ${JSON.stringify(shown)}`);
      expect(shown.clusters.map((c) => c.name).sort()).toEqual((await pass(policyId, extra)).served);
    }
    const mapped = (policyId: string) => {
      const shown = estate.get(policyId.toLowerCase());
      return Object.fromEntries((shown?.read ? shown.clusters : []).map((c) => [c.name, c.mappedBy]));
    };
    expect(mapped(IDS.policy)).toMatchObject({ "aks-routed": "routes" });
    expect(mapped(IDS.vwanPolicy)).toEqual({ "aks-tagged": "tag", "aks-vwan": "routes" });
    if (extra.includeUntaggedWhenDefault) expect(mapped(IDS.policy)["aks-bypass"]).toBe("untagged default");
    // Both policies from one read of each list: no more than one pass over one policy reads.
    const passBefore = emulator.requests().length;
    await pass(IDS.policy, extra);
    expect(reads).toBeLessThanOrEqual(emulator.requests().length - passBefore);
  });
});
