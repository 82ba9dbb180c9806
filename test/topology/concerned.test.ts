// The egress index a pass keeps per policy, and the decision of which policies a network change
// concerns (topology/concerned.ts): pure, from the estate's facts.
import { describe, expect, it } from "vitest";
import {
  type ClusterEgress,
  concernedPolicies,
  type EgressIndex,
  egressIndexOf,
  firewallReach,
  INDEX_OWN_MAX,
  INDEX_TOUCHED_MAX,
  type IndexView,
  idHash,
  isEgressIndex,
  type NetworkChange,
  type NetworkTopology,
  NOWHERE,
  resourceKey,
  routeTableReach,
} from "../../topology";
import {
  FIREWALL_IP,
  firewallsOnly,
  HUB_FIREWALL_IP,
  IDS,
  LEGACY_FIREWALL_IP,
  SEED_FACTS,
  SPOKE_SUB,
} from "./estate";

const topology: NetworkTopology = firewallsOnly([SPOKE_SUB]);

const routed: ClusterEgress = {
  clusterId:
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-routed",
  clusterName: "aks-routed",
  pools: [
    {
      pool: "system",
      subnetId: IDS.snetRouted,
      subnetPrefixes: ["10.20.0.0/22"],
      routeTableId: IDS.rtToFirewall,
      firewallId: IDS.firewall,
      firewallPolicyId: IDS.policy,
      outcome: "firewall",
    },
  ],
  routedPolicyId: IDS.policy,
  routedPolicyInScope: true,
  findings: [],
};
const viaHub: ClusterEgress = {
  ...routed,
  clusterName: "aks-vwan",
  pools: [
    {
      pool: "system",
      subnetId: IDS.snetVwan,
      subnetPrefixes: ["10.30.0.0/22"],
      securedHub: { hubId: IDS.hub, connectionId: IDS.hubConnection },
      firewallId: IDS.hubFirewall,
      firewallPolicyId: IDS.vwanPolicy,
      outcome: "firewall",
    },
  ],
};

const indexOf = (
  policyId: string,
  egress: ClusterEgress[],
  extra: Partial<Parameters<typeof egressIndexOf>[0]> = {},
) => egressIndexOf({ policyId, egress, topology, firewallsListed: true, ...extra });

describe("the egress index of a pass", () => {
  it("holds its clusters' subnets, networks, route tables, firewalls and hubs, as hashes of the lower-cased IDs", () => {
    const index = indexOf(IDS.policy, [routed, viaHub], {
      otherIds: [`${IDS.spokeVnet}/subnets/snet-apiserver`],
    });
    for (const id of [
      IDS.snetRouted,
      IDS.spokeVnet,
      IDS.rtToFirewall,
      IDS.firewall,
      IDS.snetVwan,
      IDS.vwanSpokeVnet,
      IDS.hub,
    ])
      expect(index.touched).toContain(idHash(id.toUpperCase()));
    expect(index.touched).toContain(idHash(`${IDS.spokeVnet}/subnets/snet-apiserver`));
    expect(index.touched).not.toContain(idHash(IDS.rtInternet));
    expect(index.complete).toBe(true);
    expect(isEgressIndex(index)).toBe(true);
    // Small: it travels in history and in the reconciler's input.
    expect(JSON.stringify(index).length).toBeLessThan(600);
  });

  it("holds the firewalls whose policy it is, their private IPs and hubs", () => {
    const hub = indexOf(IDS.policy, []);
    expect(hub).toMatchObject({
      ownFirewalls: [idHash(IDS.firewall)],
      ownIps: [FIREWALL_IP],
      ownHubs: [],
      ownKnown: true,
    });
    const vwan = indexOf(IDS.vwanPolicy, []);
    expect(vwan).toMatchObject({
      ownFirewalls: [idHash(IDS.hubFirewall)],
      ownIps: [HUB_FIREWALL_IP],
      ownHubs: [idHash(IDS.hub)],
    });
    expect(hub.ownIpShared).toBe(false);
  });

  it("is bounded: past INDEX_TOUCHED_MAX resources it is incomplete, and stays that size", () => {
    const many = Array.from({ length: INDEX_TOUCHED_MAX + 1 }, (_, i) => `${IDS.spokeVnet}/subnets/s${i}`);
    const index = indexOf(IDS.policy, [], { otherIds: many });
    expect(index.complete).toBe(false);
    expect(index.touched).toHaveLength(INDEX_TOUCHED_MAX);
    expect(indexOf(IDS.policy, [], { otherIds: many.slice(0, INDEX_TOUCHED_MAX) }).complete).toBe(true);
    expect(JSON.stringify(index).length).toBeLessThan(8_000);
  });

  it("does not know its own firewalls when the pass did not list them, could not, or they are too many", () => {
    expect(indexOf(IDS.policy, [], { firewallsListed: false })).toMatchObject({
      ownKnown: false,
      ownIps: [],
    });
    const refused = {
      ...topology,
      unread: [{ subscriptionId: SPOKE_SUB, what: "azureFirewalls", status: 403 }],
    };
    expect(indexOf(IDS.policy, [], { topology: refused }).ownKnown).toBe(false);
    const firewalls = Object.fromEntries(
      Array.from({ length: INDEX_OWN_MAX }, (_, i) => {
        const f = {
          ...SEED_FACTS.firewall,
          id: `${IDS.firewall}-${i}`,
          privateIpAddresses: [`10.9.${i >> 8}.${i & 255}`],
        };
        return [resourceKey(f.id), f];
      }),
    );
    expect(indexOf(IDS.policy, [], { topology: { ...topology, firewalls } }).ownKnown).toBe(false);
  });

  it("says when one of its firewalls shares a private IP with another", () => {
    const twin = {
      ...SEED_FACTS.legacyFirewall,
      id: `${IDS.legacyFirewall}-twin`,
      privateIpAddresses: [FIREWALL_IP],
    };
    const shared = { ...topology, firewalls: { ...topology.firewalls, [resourceKey(twin.id)]: twin } };
    expect(indexOf(IDS.policy, [], { topology: shared }).ownIpShared).toBe(true);
  });

  it("refuses what it cannot use", () => {
    expect(isEgressIndex(undefined)).toBe(false);
    expect(isEgressIndex({ ...indexOf(IDS.policy, []), v: 2 })).toBe(false);
    expect(isEgressIndex({ ...indexOf(IDS.policy, []), touched: [1] })).toBe(false);
  });
});

describe("which policies a network change concerns", () => {
  const policies = [IDS.policy, IDS.legacyPolicy, IDS.vwanPolicy];
  const indexes: Record<string, EgressIndex> = {
    [IDS.policy]: indexOf(IDS.policy, [routed]),
    [IDS.legacyPolicy]: indexOf(IDS.legacyPolicy, []),
    [IDS.vwanPolicy]: indexOf(IDS.vwanPolicy, [viaHub]),
  };
  const views = (overrides: Record<string, IndexView> = {}) =>
    new Map(policies.map((p) => [resourceKey(p), overrides[p] ?? { index: indexes[p] as EgressIndex }]));
  const decide = (change: NetworkChange, overrides?: Record<string, IndexView>, options = {}) =>
    concernedPolicies(change, policies, views(overrides), {
      includeUntaggedWhenDefault: false,
      ...options,
    }).map((c) => c.policyId);
  const table = (ip?: string, nextHopType = "VirtualAppliance", disableBgpRoutePropagation = true) => ({
    id: IDS.rtToFirewall,
    name: "rt-to-firewall",
    disableBgpRoutePropagation,
    routes:
      ip === undefined && nextHopType === "VirtualAppliance"
        ? []
        : [
            {
              name: "default",
              addressPrefix: "0.0.0.0/0",
              nextHopType,
              ...(ip ? { nextHopIpAddress: ip } : {}),
            },
          ],
  });
  const onTable = [{ id: IDS.rtToFirewall, noun: "route table" }];

  it("a route table re-pointed to another policy's firewall: the policy it left and the one it reaches", () => {
    expect(decide({ onPath: onTable, reach: routeTableReach(table(LEGACY_FIREWALL_IP)) })).toEqual([
      IDS.policy,
      IDS.legacyPolicy,
    ]);
  });

  it("a route table sent to the Internet: only the policy it left", () => {
    expect(decide({ onPath: onTable, reach: routeTableReach(table(undefined, "Internet")) })).toEqual([
      IDS.policy,
    ]);
  });

  it("a route table no served cluster uses that leads nowhere: no policy", () => {
    const unrelated = [{ id: IDS.rtUnknownAppliance, noun: "route table" }];
    expect(decide({ onPath: unrelated, reach: routeTableReach(table("10.0.3.10")) })).toEqual([]);
    expect(decide({ onPath: unrelated })).toEqual([]);
  });

  it("a route table without a default route that learns gateway routes: the policies with a secured hub", () => {
    const unrelated = [{ id: IDS.rtNoDefault, noun: "route table" }];
    expect(
      decide({ onPath: unrelated, reach: routeTableReach(table(undefined, "VirtualAppliance", false)) }),
    ).toEqual([IDS.vwanPolicy]);
    expect(
      decide({ onPath: unrelated, reach: routeTableReach(table(undefined, "VirtualAppliance", true)) }),
    ).toEqual([]);
  });

  it("deleted (nothing to read): only the policies whose clusters it carried", () => {
    expect(decide({ onPath: onTable })).toEqual([IDS.policy]);
  });

  it("a subnet or network on a cluster's path, by its ID in any casing", () => {
    expect(decide({ onPath: [{ id: IDS.snetVwan.toUpperCase(), noun: "subnet" }], reach: NOWHERE })).toEqual([
      IDS.vwanPolicy,
    ]);
    expect(decide({ onPath: [{ id: IDS.spokeVnet, noun: "virtual network" }], reach: NOWHERE })).toEqual([
      IDS.policy,
    ]);
  });

  it("an Azure Firewall: its policy now, the policy that owned it, and those whose clusters pass it", () => {
    const moved = { ...SEED_FACTS.legacyFirewall, firewallPolicyId: IDS.vwanPolicy };
    expect(
      decide({
        onPath: [{ id: moved.id, noun: "Azure Firewall" }],
        firewallId: moved.id,
        reach: firewallReach(moved),
      }),
    ).toEqual([IDS.legacyPolicy, IDS.vwanPolicy]);
    expect(
      decide({ onPath: [{ id: IDS.firewall, noun: "Azure Firewall" }], firewallId: IDS.firewall }),
    ).toEqual([IDS.policy]);
  });

  it("a firewall that goes concerns the policy whose firewall shared its IP (a route to it resolves anew)", () => {
    const twin = {
      ...SEED_FACTS.legacyFirewall,
      id: `${IDS.legacyFirewall}-twin`,
      privateIpAddresses: [FIREWALL_IP],
    };
    const shared = { ...topology, firewalls: { ...topology.firewalls, [resourceKey(twin.id)]: twin } };
    const sharing = (policyId: string) => ({
      index: egressIndexOf({ policyId, egress: [], topology: shared, firewallsListed: true }),
    });
    const gone = { onPath: [{ id: twin.id, noun: "Azure Firewall" }], firewallId: twin.id };
    const chosen = concernedPolicies(
      gone,
      policies,
      views({ [IDS.policy]: sharing(IDS.policy), [IDS.legacyPolicy]: sharing(IDS.legacyPolicy) }),
      { includeUntaggedWhenDefault: false },
    );
    expect(chosen).toEqual([
      { policyId: IDS.policy, why: "its firewall shares a private IP with another firewall" },
      { policyId: IDS.legacyPolicy, why: "its own firewall" },
    ]);
  });

  it("a hub's connection or routing intent: the policies whose clusters pass the hub, and the hub's own", () => {
    expect(
      decide({ onPath: [{ id: IDS.hub, noun: "virtual hub" }], reach: { ...NOWHERE, hubs: [IDS.hub] } }),
    ).toEqual([IDS.vwanPolicy]);
    const otherHub = IDS.hub.replace("vhub-weu", "vhub-neu");
    expect(
      decide({
        onPath: [
          { id: otherHub, noun: "virtual hub" },
          { id: IDS.spokeVnet, noun: "virtual network" },
        ],
        reach: { ...NOWHERE, hubs: [otherHub] },
      }),
    ).toEqual([IDS.policy]);
  });

  it("a policy without an index, or with an incomplete one, is concerned by every change", () => {
    const unrelated: NetworkChange = {
      onPath: [{ id: IDS.rtUnknownAppliance, noun: "route table" }],
      reach: NOWHERE,
    };
    expect(decide(unrelated, { [IDS.legacyPolicy]: { missing: "no index yet" } })).toEqual([
      IDS.legacyPolicy,
    ]);
    const incomplete = { ...(indexes[IDS.vwanPolicy] as EgressIndex), complete: false };
    expect(decide(unrelated, { [IDS.vwanPolicy]: { index: incomplete } })).toEqual([IDS.vwanPolicy]);
    expect(
      concernedPolicies(unrelated, policies, new Map(), { includeUntaggedWhenDefault: false }).map(
        (c) => c.why,
      ),
    ).toEqual(["no index read", "no index read", "no index read"]);
  });

  it("a policy whose firewalls were not all listed may be reached by any route that leads to a firewall", () => {
    const unknown = { index: indexOf(IDS.legacyPolicy, [], { firewallsListed: false }) };
    const toNva = {
      onPath: [{ id: IDS.rtUnknownAppliance, noun: "route table" }],
      reach: routeTableReach(table("10.0.3.10")),
    };
    expect(decide(toNva, { [IDS.legacyPolicy]: unknown })).toEqual([IDS.legacyPolicy]);
    // Internet leads to no firewall at all, whatever the index knows.
    const toInternet = { ...toNva, reach: routeTableReach(table(undefined, "Internet")) };
    expect(decide(toInternet, { [IDS.legacyPolicy]: unknown })).toEqual([]);
  });

  it("the default policy that takes untagged clusters is concerned whenever another policy may lose one", () => {
    const options = { includeUntaggedWhenDefault: true, defaultPolicyId: IDS.legacyPolicy };
    const toInternet = { onPath: onTable, reach: routeTableReach(table(undefined, "Internet")) };
    expect(decide(toInternet, {}, options)).toEqual([IDS.policy, IDS.legacyPolicy]);
    expect(decide(toInternet, {}, { ...options, includeUntaggedWhenDefault: false })).toEqual([IDS.policy]);
    // Nobody loses a cluster: the default policy is not concerned either.
    expect(
      decide({ onPath: [{ id: IDS.rtInternet, noun: "route table" }], reach: NOWHERE }, {}, options),
    ).toEqual([]);
  });
});
