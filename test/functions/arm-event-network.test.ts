// Network events (route tables and routes, subnets, virtual networks, Azure Firewalls, hub routing)
// narrowed to the policies they concern, with fake readers: each operation kind's two sides (the
// policies whose clusters' egress passes the resource, and those it now leads to), deletes, and every
// case that falls back to every policy in scope. Before this, every network event woke every policy.
import { describe, expect, it } from "vitest";
import type { NetworkReader } from "../../azure/event-target";
import { type EventReaders, narrowArmEvent } from "../../functions/events/arm-event";
import { loadSettings } from "../../orchestrations/settings";
import {
  type AzureFirewallFacts,
  type ClusterEgress,
  type EgressIndex,
  egressIndexOf,
  type IndexView,
  type NetworkTopology,
  type RouteTableFacts,
  resourceKey,
} from "../../topology";
import {
  FIREWALL_IP,
  firewallsOnly,
  HUB_SUB,
  IDS,
  LEGACY_FIREWALL_IP,
  SEED_FACTS,
  SPOKE_SUB,
  UNKNOWN_APPLIANCE_IP,
} from "../topology/estate";
import { networkEvent } from "./network-events";

const POLICIES = [IDS.policy, IDS.legacyPolicy, IDS.vwanPolicy];
const settings = loadSettings({
  AKS_EGRESS_FIREWALL_POLICIES: POLICIES.join(","),
  AKS_EGRESS_APPROVAL_SIGNING_KEY: "x".repeat(40),
  AKS_EGRESS_APP_OBJECT_ID: "9d3f6b2e-5a4c-4e1f-9b8a-7c6d5e4f3a21",
  AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
});

const topology: NetworkTopology = firewallsOnly([SPOKE_SUB, HUB_SUB]);
const cluster = (name: string, pool: ClusterEgress["pools"][number]): ClusterEgress => ({
  clusterId: `/subscriptions/${SPOKE_SUB}/resourceGroups/rg-aks-weu/providers/Microsoft.ContainerService/managedClusters/${name}`,
  clusterName: name,
  pools: [pool],
  routedPolicyInScope: true,
  findings: [],
});
/** aks-routed (rt-to-firewall → fw-hub-weu) is fw-policy-hub's; aks-vwan (vhub-weu) fw-policy-vwan's. */
const INDEXES: Record<string, EgressIndex> = {
  [IDS.policy]: egressIndexOf({
    policyId: IDS.policy,
    egress: [
      cluster("aks-routed", {
        pool: "system",
        subnetId: IDS.snetRouted,
        subnetPrefixes: [],
        routeTableId: IDS.rtToFirewall,
        firewallId: IDS.firewall,
        outcome: "firewall",
      }),
    ],
    topology,
    firewallsListed: true,
  }),
  [IDS.legacyPolicy]: egressIndexOf({
    policyId: IDS.legacyPolicy,
    egress: [],
    topology,
    firewallsListed: true,
  }),
  [IDS.vwanPolicy]: egressIndexOf({
    policyId: IDS.vwanPolicy,
    egress: [
      cluster("aks-vwan", {
        pool: "system",
        subnetId: IDS.snetVwan,
        subnetPrefixes: [],
        securedHub: { hubId: IDS.hub, connectionId: IDS.hubConnection },
        firewallId: IDS.hubFirewall,
        outcome: "firewall",
      }),
    ],
    topology,
    firewallsListed: true,
  }),
};

const table = (
  id: string,
  hop: { type: string; ip?: string } | undefined,
  propagate = false,
): RouteTableFacts => ({
  id,
  name: id.split("/").at(-1) ?? "",
  disableBgpRoutePropagation: !propagate,
  routes: hop
    ? [
        {
          name: "default",
          addressPrefix: "0.0.0.0/0",
          nextHopType: hop.type,
          ...(hop.ip ? { nextHopIpAddress: hop.ip } : {}),
        },
      ]
    : [],
});
const toIp = (ip: string) => ({ type: "VirtualAppliance", ip });

interface Network {
  routeTables?: RouteTableFacts[];
  subnets?: Record<string, string | undefined>;
  networks?: Record<string, (string | undefined)[]>;
  firewalls?: AzureFirewallFacts[];
  connections?: Record<string, string>;
  /** Resource IDs whose read fails (not a 404). */
  failing?: string[];
}

/** Fake readers over a few facts; `reads` lists every read asked of them. */
function readers(network: Network, views: Record<string, IndexView> = {}) {
  const reads: string[] = [];
  const read = async <T>(id: string, answer: () => T): Promise<T> => {
    reads.push(id);
    if ((network.failing ?? []).some((f) => resourceKey(f) === resourceKey(id)))
      throw new Error("Internal Server Error (HTTP 500)");
    return answer();
  };
  const find = <T extends { id: string }>(list: T[] | undefined, id: string) =>
    list?.find((t) => resourceKey(t.id) === resourceKey(id));
  const byKey = <T>(record: Record<string, T> | undefined, id: string) =>
    Object.entries(record ?? {}).find(([k]) => resourceKey(k) === resourceKey(id));
  const reader: NetworkReader = {
    routeTable: (id) => read(id, () => find(network.routeTables, id)),
    subnet: (id) =>
      read(id, () => {
        const found = byKey(network.subnets, id);
        return found ? { prefixes: [], ...(found[1] ? { routeTableId: found[1] } : {}) } : undefined;
      }),
    virtualNetwork: (id) =>
      read(id, () => {
        const found = byKey(network.networks, id);
        return found ? { subnetRouteTables: found[1] } : undefined;
      }),
    firewall: (id) => read(id, () => find(network.firewalls, id)),
    hubConnection: (id) =>
      read(id, () => {
        const found = byKey(network.connections, id);
        return found
          ? { id, name: "c", remoteVirtualNetworkId: found[1], enableInternetSecurity: true }
          : undefined;
      }),
  };
  const given: EventReaders = {
    async indexes(policyIds) {
      reads.push("indexes");
      return new Map(
        policyIds.map((p) => [resourceKey(p), views[p] ?? { index: INDEXES[p] as EgressIndex }] as const),
      );
    },
    network: reader,
  };
  return { readers: given, reads };
}

const narrow = (operation: string, uri: string, network: Network, views?: Record<string, IndexView>) => {
  const fake = readers(network, views);
  return {
    narrowed: narrowArmEvent(networkEvent(operation, uri), settings, fake.readers),
    reads: fake.reads,
  };
};
const ROUTE = `${IDS.rtToFirewall}/routes/default-to-firewall`;

describe("a route table or route event", () => {
  it("re-pointed to another policy's firewall: wakes the policy it left and the one it reaches, and says why", async () => {
    const { narrowed } = narrow("Microsoft.Network/routeTables/write", IDS.rtToFirewall, {
      routeTables: [table(IDS.rtToFirewall, toIp(LEGACY_FIREWALL_IP))],
    });
    expect(await narrowed).toEqual({
      kind: "signal",
      policies: [IDS.policy, IDS.legacyPolicy],
      reason: {
        source: "event",
        eventId: expect.any(String),
        detail: `Microsoft.Network/routeTables/write ${IDS.rtToFirewall} (concerns 2 of 3 policies: fw-policy-hub by its clusters' route table; fw-policy-legacy: now reached through its firewall's IP ${LEGACY_FIREWALL_IP})`,
      },
    });
  });

  it("a table no served cluster uses, to the firewall of another policy: wakes only that policy", async () => {
    const { narrowed } = narrow("Microsoft.Network/routeTables/write", IDS.rtLegacy, {
      routeTables: [table(IDS.rtLegacy, toIp(LEGACY_FIREWALL_IP))],
    });
    expect(await narrowed).toMatchObject({ kind: "signal", policies: [IDS.legacyPolicy] });
  });

  it("a table that leads to no policy and carries no served cluster's traffic: dropped, with why", async () => {
    for (const hop of [
      toIp(UNKNOWN_APPLIANCE_IP),
      { type: "Internet" },
      { type: "VirtualNetworkGateway" },
      undefined,
    ]) {
      const { narrowed } = narrow("Microsoft.Network/routeTables/write", IDS.rtUnknownAppliance, {
        routeTables: [table(IDS.rtUnknownAppliance, hop)],
      });
      expect(await narrowed).toEqual({
        kind: "drop",
        eventId: expect.any(String),
        reason:
          "route table rt-unknown-appliance leads to no policy in scope and carries no served cluster's traffic",
      });
    }
  });

  it("a table without a default route that learns gateway routes may lead through a secured hub", async () => {
    const { narrowed } = narrow("Microsoft.Network/routeTables/write", IDS.rtNoDefault, {
      routeTables: [table(IDS.rtNoDefault, undefined, true)],
    });
    expect(await narrowed).toMatchObject({ policies: [IDS.vwanPolicy] });
  });

  it("a route: its table is read, written or deleted, and the table's clusters count", async () => {
    for (const operation of [
      "Microsoft.Network/routeTables/routes/write",
      "Microsoft.Network/routeTables/routes/delete",
    ]) {
      const { narrowed, reads } = narrow(operation, ROUTE, {
        routeTables: [table(IDS.rtToFirewall, { type: "Internet" })],
      });
      expect(await narrowed).toMatchObject({
        policies: [IDS.policy],
        reason: {
          detail: expect.stringMatching(
            /\(concerns 1 of 3 policies: fw-policy-hub by its clusters' route table\)$/,
          ),
        },
      });
      expect(reads).toContain(IDS.rtToFirewall);
    }
  });

  it("a deleted table: nothing is read from ARM, the policies whose clusters it carried are woken", async () => {
    const { narrowed, reads } = narrow("Microsoft.Network/routeTables/delete", IDS.rtToFirewall, {});
    expect(await narrowed).toMatchObject({ policies: [IDS.policy] });
    expect(reads).toEqual(["indexes"]);
    const unused = narrow("Microsoft.Network/routeTables/delete", IDS.rtInternet, {});
    expect(await unused.narrowed).toMatchObject({
      kind: "drop",
      reason: "route table rt-internet is gone and carried no served cluster's traffic",
    });
  });

  it("written, then gone before it was read (404): only the policies whose clusters it carried", async () => {
    const { narrowed } = narrow("Microsoft.Network/routeTables/write", IDS.rtToFirewall, {});
    expect(await narrowed).toMatchObject({ policies: [IDS.policy] });
  });
});

describe("a subnet or virtual network event", () => {
  it("a subnet given a route table to another policy's firewall: that policy, and the subnet's own", async () => {
    const { narrowed, reads } = narrow("Microsoft.Network/virtualNetworks/subnets/write", IDS.snetRouted, {
      subnets: { [IDS.snetRouted]: IDS.rtLegacy },
      routeTables: [table(IDS.rtLegacy, toIp(LEGACY_FIREWALL_IP))],
    });
    expect(await narrowed).toMatchObject({ policies: [IDS.policy, IDS.legacyPolicy] });
    expect(reads).toEqual(expect.arrayContaining([IDS.snetRouted, IDS.rtLegacy]));
  });

  it("a sibling subnet in a cluster's network concerns nobody; a subnet without a route table may reach a hub", async () => {
    const sibling = `${IDS.spokeVnet}/subnets/snet-other`;
    const { narrowed } = narrow("Microsoft.Network/virtualNetworks/subnets/write", sibling, {
      subnets: { [sibling]: IDS.rtInternet },
      routeTables: [table(IDS.rtInternet, { type: "Internet" })],
    });
    expect(await narrowed).toMatchObject({
      kind: "drop",
      reason: expect.stringMatching(/^subnet snet-other leads to no policy/),
    });
    const bare = narrow("Microsoft.Network/virtualNetworks/subnets/write", sibling, {
      subnets: { [sibling]: undefined },
    });
    expect(await bare.narrowed).toMatchObject({ policies: [IDS.vwanPolicy] });
  });

  it("a deleted subnet: only the policies whose clusters used it", async () => {
    const { narrowed, reads } = narrow("Microsoft.Network/virtualNetworks/subnets/delete", IDS.snetVwan, {});
    expect(await narrowed).toMatchObject({ policies: [IDS.vwanPolicy] });
    expect(reads).toEqual(["indexes"]);
  });

  it("a virtual network: its clusters' policies, and where each of its subnets' route tables leads (each read once)", async () => {
    const { narrowed, reads } = narrow("Microsoft.Network/virtualNetworks/write", IDS.spokeVnet, {
      networks: { [IDS.spokeVnet]: [IDS.rtToFirewall, IDS.rtToFirewall, IDS.rtLegacy] },
      routeTables: [
        table(IDS.rtToFirewall, toIp(FIREWALL_IP)),
        table(IDS.rtLegacy, toIp(LEGACY_FIREWALL_IP)),
      ],
    });
    expect(await narrowed).toMatchObject({ policies: [IDS.policy, IDS.legacyPolicy] });
    expect(reads.filter((r) => r === IDS.rtToFirewall)).toHaveLength(1);
  });

  it("a subnet whose route table ARM does not know: every policy", async () => {
    const { narrowed } = narrow("Microsoft.Network/virtualNetworks/subnets/write", IDS.snetLegacy, {
      subnets: { [IDS.snetLegacy]: IDS.rtLegacy },
    });
    expect(await narrowed).toMatchObject({
      policies: POLICIES,
      reason: {
        detail: expect.stringMatching(
          /\(every policy in scope: subnet snet-legacy could not be read: route table rt-legacy was not found\)$/,
        ),
      },
    });
  });
});

describe("an Azure Firewall or hub routing event", () => {
  it("a firewall moved to another policy: the policy that owned it, and the one it names now", async () => {
    const moved = { ...SEED_FACTS.legacyFirewall, firewallPolicyId: IDS.vwanPolicy };
    const { narrowed } = narrow("Microsoft.Network/azureFirewalls/write", IDS.legacyFirewall, {
      firewalls: [moved],
    });
    expect(await narrowed).toMatchObject({
      policies: [IDS.legacyPolicy, IDS.vwanPolicy],
      reason: {
        detail: expect.stringMatching(
          /concerns 2 of 3 policies: fw-policy-legacy: its own firewall; fw-policy-vwan: the firewall's policy\)$/,
        ),
      },
    });
  });

  it("a firewall whose policy is out of scope and whose IP no route uses: dropped", async () => {
    const foreign = {
      ...SEED_FACTS.legacyFirewall,
      id: IDS.legacyFirewall.replace("fw-legacy-weu", "fw-foreign"),
      privateIpAddresses: ["10.0.9.4"],
      firewallPolicyId: IDS.policy.replace("fw-policy-hub", "someone-elses"),
    };
    const { narrowed } = narrow("Microsoft.Network/azureFirewalls/write", foreign.id, {
      firewalls: [foreign],
    });
    expect(await narrowed).toMatchObject({
      kind: "drop",
      reason: expect.stringMatching(/^Azure Firewall fw-foreign leads to no policy in scope/),
    });
  });

  it("a deleted firewall: the policies whose clusters passed it, and its owner", async () => {
    const { narrowed } = narrow("Microsoft.Network/azureFirewalls/delete", IDS.firewall, {});
    expect(await narrowed).toMatchObject({ policies: [IDS.policy] });
  });

  it("a hub connection: the policies whose clusters pass the hub or are in the network it connects, and the hub's own", async () => {
    const connection = `${IDS.hub}/hubVirtualNetworkConnections/conn-spoke`;
    const { narrowed } = narrow(
      "Microsoft.Network/virtualHubs/hubVirtualNetworkConnections/write",
      connection,
      {
        connections: { [connection]: IDS.spokeVnet },
      },
    );
    expect(await narrowed).toMatchObject({ policies: [IDS.policy, IDS.vwanPolicy] });
    const gone = narrow("Microsoft.Network/virtualHubs/hubVirtualNetworkConnections/delete", connection, {});
    expect(await gone.narrowed).toMatchObject({ policies: [IDS.vwanPolicy] });
  });

  it("routing intent: the policies whose clusters pass the hub, and the hub's firewall's", async () => {
    const { narrowed, reads } = narrow(
      "Microsoft.Network/virtualHubs/routingIntent/delete",
      IDS.routingIntent,
      {},
    );
    expect(await narrowed).toMatchObject({ policies: [IDS.vwanPolicy] });
    expect(reads).toEqual(["indexes"]);
  });
});

describe("when the app cannot be sure, every policy in scope", () => {
  it("a read ARM fails (not a 404)", async () => {
    const { narrowed } = narrow("Microsoft.Network/routeTables/write", IDS.rtUnknownAppliance, {
      failing: [IDS.rtUnknownAppliance],
    });
    expect(await narrowed).toMatchObject({
      kind: "signal",
      policies: POLICIES,
      reason: {
        detail: expect.stringMatching(
          /\(every policy in scope: route table rt-unknown-appliance could not be read: Internal Server Error \(HTTP 500\)\)$/,
        ),
      },
    });
  });

  it("a policy with no index (never ran, older version, a pass under way) is concerned by every event", async () => {
    const unrelated = { routeTables: [table(IDS.rtUnknownAppliance, { type: "Internet" })] };
    const { narrowed } = narrow("Microsoft.Network/routeTables/write", IDS.rtUnknownAppliance, unrelated, {
      [IDS.legacyPolicy]: { missing: "no index yet" },
    });
    expect(await narrowed).toMatchObject({
      policies: [IDS.legacyPolicy],
      reason: {
        detail: expect.stringMatching(/\(concerns 1 of 3 policies: fw-policy-legacy: no index yet\)$/),
      },
    });
    const none = Object.fromEntries(POLICIES.map((p) => [p, { missing: "no index yet" }]));
    const all = narrow("Microsoft.Network/routeTables/write", IDS.rtUnknownAppliance, unrelated, none);
    expect(await all.narrowed).toMatchObject({
      policies: POLICIES,
      reason: {
        detail: expect.stringMatching(
          /\(every policy in scope: fw-policy-hub: no index yet; fw-policy-legacy: no index yet; fw-policy-vwan: no index yet\)$/,
        ),
      },
    });
  });

  it("a policy whose index overflowed is concerned by every event", async () => {
    const incomplete = { index: { ...(INDEXES[IDS.vwanPolicy] as EgressIndex), complete: false } };
    const { narrowed } = narrow(
      "Microsoft.Network/routeTables/write",
      IDS.rtUnknownAppliance,
      { routeTables: [table(IDS.rtUnknownAppliance, { type: "Internet" })] },
      { [IDS.vwanPolicy]: incomplete },
    );
    expect(await narrowed).toMatchObject({ policies: [IDS.vwanPolicy] });
  });

  it("a policy whose last pass did not list firewalls may be reached by a route to any appliance", async () => {
    const unknown = { index: { ...(INDEXES[IDS.legacyPolicy] as EgressIndex), ownKnown: false } };
    const { narrowed } = narrow(
      "Microsoft.Network/routeTables/write",
      IDS.rtUnknownAppliance,
      { routeTables: [table(IDS.rtUnknownAppliance, toIp(UNKNOWN_APPLIANCE_IP))] },
      { [IDS.legacyPolicy]: unknown },
    );
    expect(await narrowed).toMatchObject({ policies: [IDS.legacyPolicy] });
  });

  it("ARM or the task hub gives no answer in time", async () => {
    const fake = readers({});
    const slow: EventReaders = {
      ...fake.readers,
      deadlineMs: 50,
      network: { ...fake.readers.network, routeTable: () => new Promise(() => undefined) },
    };
    expect(
      await narrowArmEvent(
        networkEvent("Microsoft.Network/routeTables/write", IDS.rtInternet),
        settings,
        slow,
      ),
    ).toMatchObject({
      policies: POLICIES,
      reason: {
        detail: expect.stringMatching(
          /every policy in scope: route table rt-internet could not be read: the network or the reconcilers gave no answer within 0\.05 s\)$/,
        ),
      },
    });
  });

  it("a resource ID that does not fit the operation: nothing is read", async () => {
    const { narrowed, reads } = narrow("Microsoft.Network/routeTables/write", IDS.snetRouted, {});
    expect(await narrowed).toMatchObject({
      policies: POLICIES,
      reason: {
        detail: expect.stringMatching(/every policy in scope: its resource ID does not fit the operation\)$/),
      },
    });
    expect(reads).toEqual([]);
  });

  it("no readers given: every policy", async () => {
    expect(
      await narrowArmEvent(networkEvent("Microsoft.Network/routeTables/write", IDS.rtInternet), settings),
    ).toMatchObject({
      policies: POLICIES,
      reason: { detail: expect.stringMatching(/every policy in scope: the network was not read\)$/) },
    });
  });
});

describe("what narrowing network events leaves as it was", () => {
  it("a CloudEvents 1.0 network event is narrowed the same way", async () => {
    const fake = readers({ routeTables: [table(IDS.rtToFirewall, toIp(LEGACY_FIREWALL_IP))] });
    const event = networkEvent("Microsoft.Network/routeTables/write", IDS.rtToFirewall, "cloudevent");
    expect(await narrowArmEvent(event, settings, fake.readers)).toMatchObject({
      policies: [IDS.policy, IDS.legacyPolicy],
    });
  });

  it("malformed events and the app's own are dropped before anything is read", async () => {
    const fake = readers({ routeTables: [table(IDS.rtToFirewall, toIp(LEGACY_FIREWALL_IP))] });
    const good = networkEvent("Microsoft.Network/routeTables/write", IDS.rtToFirewall);
    const data = good.data as Record<string, unknown>;
    const bad: unknown[] = [
      { ...good, data: { ...data, operationName: undefined } },
      { ...good, data: { ...data, resourceUri: 7 } },
      { ...good, data: { ...data, claims: { oid: settings.appObjectId } } },
      { ...good, eventType: "Microsoft.Resources.ResourceActionSuccess" },
      "not an event",
    ];
    for (const event of bad)
      expect(await narrowArmEvent(event, settings, fake.readers)).toMatchObject({ kind: "drop" });
    expect(fake.reads).toEqual([]);
  });

  it("cluster, agent pool and rule collection group events keep their mapping, and read nothing", async () => {
    const fake = readers({});
    const cluster = networkEvent(
      "Microsoft.ContainerService/managedClusters/write",
      `/subscriptions/${SPOKE_SUB}/resourceGroups/rg-aks-weu/providers/Microsoft.ContainerService/managedClusters/aks-routed`,
    );
    expect(await narrowArmEvent(cluster, settings, fake.readers)).toMatchObject({ policies: POLICIES });
    const group = networkEvent(
      "Microsoft.Network/firewallPolicies/ruleCollectionGroups/write",
      `${IDS.legacyPolicy}/ruleCollectionGroups/aks-egress-guard`,
    );
    expect(await narrowArmEvent(group, settings, fake.readers)).toMatchObject({
      policies: [IDS.legacyPolicy],
    });
    expect(fake.reads).toEqual([]);
  });
});
