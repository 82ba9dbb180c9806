// azure/topology.ts through the real SDK against the ARM emulator: bulk lists per subscription, the
// secured hubs' connections and routing intent, paging, and what a refused list leaves out.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ArmConnection } from "../../azure/clients";
import { networkClient } from "../../azure/clients";
import { readNetworkTopology, virtualNetworkFacts } from "../../azure/topology";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import { emulatorConnection } from "../local/arm-emulator-helpers";
import { FIREWALL_IP, HUB_SUB, IDS, SEED_FACTS, SPOKE_SUB, topologySeed } from "../topology/estate";

let emulator: ArmEmulator;
let connection: ArmConnection;

beforeAll(async () => {
  emulator = await startArmEmulator({ seed: topologySeed() });
});
afterAll(async () => emulator.close());
beforeEach(() => {
  emulator.reset();
  // A fresh connection each test: the adapters cache SDK clients per connection object.
  connection = emulatorConnection(emulator);
});

const key = (id: string) => id.toLowerCase();
const reads = () =>
  emulator
    .requests()
    .map((r) => `${r.method} ${r.path.replace(/^\/subscriptions\/[^/]+/, (s) => s.slice(-2))} ${r.status}`);

describe("readNetworkTopology", () => {
  it("reads route tables, firewalls and hubs with one list each per subscription, plus each secured hub's children", async () => {
    const topology = await readNetworkTopology(connection, [SPOKE_SUB, HUB_SUB.toUpperCase(), SPOKE_SUB]);
    expect(topology.subscriptions).toEqual([SPOKE_SUB, HUB_SUB]);
    expect(topology.unread).toEqual([]);
    expect(Object.keys(topology.routeTables)).toHaveLength(5);
    expect(topology.routeTables[key(IDS.rtToFirewall)]).toEqual({
      id: IDS.rtToFirewall,
      name: "rt-to-firewall",
      routes: [
        {
          name: "default-to-firewall",
          addressPrefix: "0.0.0.0/0",
          nextHopType: "VirtualAppliance",
          nextHopIpAddress: FIREWALL_IP,
        },
        { name: "to-onprem", addressPrefix: "192.168.0.0/16", nextHopType: "VirtualNetworkGateway" },
      ],
      disableBgpRoutePropagation: true,
    });
    expect(topology.firewalls[key(IDS.firewall)]).toEqual(SEED_FACTS.firewall);
    expect(topology.firewalls[key(IDS.hubFirewall)]).toEqual(SEED_FACTS.hubFirewall);
    expect(topology.virtualHubs[key(IDS.hub)]).toEqual(SEED_FACTS.hub);
    // Plain JSON: it can cross a durable activity boundary as it is.
    expect(JSON.parse(JSON.stringify(topology))).toEqual(topology);
    expect(reads().sort()).toEqual(
      [
        "GET 01/providers/Microsoft.Network/routeTables 200",
        "GET 01/providers/Microsoft.Network/azureFirewalls 200",
        "GET 01/providers/Microsoft.Network/virtualHubs 200",
        "GET 02/providers/Microsoft.Network/routeTables 200",
        "GET 02/providers/Microsoft.Network/azureFirewalls 200",
        "GET 02/providers/Microsoft.Network/virtualHubs 200",
        "GET 02/resourceGroups/rg-vwan-weu/providers/Microsoft.Network/virtualHubs/vhub-weu/hubVirtualNetworkConnections 200",
        "GET 02/resourceGroups/rg-vwan-weu/providers/Microsoft.Network/virtualHubs/vhub-weu/routingIntent 200",
      ].sort(),
    );
  });

  it("pages every list to its end", async () => {
    const paged = await startArmEmulator({ seed: topologySeed(), pageSize: 1 });
    try {
      const topology = await readNetworkTopology(emulatorConnection(paged), [SPOKE_SUB, HUB_SUB]);
      expect(Object.keys(topology.routeTables)).toHaveLength(5);
      expect(Object.keys(topology.firewalls)).toHaveLength(3);
      expect(topology.virtualHubs[key(IDS.hub)]?.routingPolicies).toHaveLength(2);
      expect(paged.requests().filter((r) => r.path.endsWith("/routeTables"))).toHaveLength(6);
    } finally {
      await paged.close();
    }
  });

  it("does not follow a hub without an Azure Firewall", async () => {
    emulator.upsert({ id: IDS.hub, properties: { addressPrefix: "10.100.0.0/23" } });
    const topology = await readNetworkTopology(connection, [HUB_SUB]);
    expect(topology.virtualHubs[key(IDS.hub)]).toEqual({
      id: IDS.hub,
      name: "vhub-weu",
      followed: false,
      connections: [],
      routingPolicies: [],
    });
    expect(reads().filter((r) => r.includes("/virtualHubs/vhub-weu/"))).toEqual([]);
  });

  it("a list ARM refuses is a gap, named, not a failure", async () => {
    emulator.injectFault({
      kind: "forbidden",
      pathContains: `/subscriptions/${HUB_SUB}/providers/Microsoft.Network/azureFirewalls`,
    });
    emulator.injectFault({ kind: "forbidden", pathContains: "/routingIntent" });
    const topology = await readNetworkTopology(connection, [SPOKE_SUB, HUB_SUB]);
    expect(topology.unread).toEqual([
      { subscriptionId: HUB_SUB, what: "azureFirewalls", status: 403 },
      { subscriptionId: HUB_SUB, what: "routingIntent of vhub-weu", status: 403 },
    ]);
    expect(topology.firewalls).toEqual({});
    expect(topology.virtualHubs[key(IDS.hub)]?.connections).toHaveLength(1);
    expect(topology.virtualHubs[key(IDS.hub)]?.routingPolicies).toEqual([]);
  });

  it("other failures are thrown (after the SDK's retries)", async () => {
    emulator.injectFault({ kind: "serverError", pathContains: "/routeTables", times: 10 });
    await expect(readNetworkTopology(connection, [SPOKE_SUB])).rejects.toMatchObject({ statusCode: 500 });
  });
});

describe("virtualNetworkFacts", () => {
  it("narrows a network from the VNet list: custom DNS servers, address space, connected peerings", async () => {
    const networks = [];
    for await (const network of networkClient(connection, SPOKE_SUB).virtualNetworks.listAll()) {
      networks.push(virtualNetworkFacts(network));
    }
    expect(networks).toEqual([
      {
        id: IDS.spokeVnet,
        addressPrefixes: ["10.20.0.0/16"],
        dnsServers: [FIREWALL_IP],
        peeredNetworkIds: [IDS.hubVnet],
      },
      { id: IDS.vwanSpokeVnet, addressPrefixes: ["10.30.0.0/16"], dnsServers: [], peeredNetworkIds: [] },
    ]);
  });

  it("leaves out a peering that is not Connected", () => {
    const facts = virtualNetworkFacts({
      id: IDS.spokeVnet,
      virtualNetworkPeerings: [
        { name: "a", remoteVirtualNetwork: { id: IDS.hubVnet }, peeringState: "Disconnected" },
        { name: "b", remoteVirtualNetwork: { id: IDS.vwanSpokeVnet }, peeringState: "Connected" },
      ],
    });
    expect(facts.peeredNetworkIds).toEqual([IDS.vwanSpokeVnet]);
  });
});
