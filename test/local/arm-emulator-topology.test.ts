// The emulator's read-only network surface (route tables, Azure Firewalls, virtual hubs with their
// connections and routing intent, virtual networks with DNS servers and peerings) through the real
// NetworkManagementClient, and `PUT /_emulator/resources` taking any resource by ID.
import { NetworkManagementClient } from "@azure/arm-network";
import { isRestError } from "@azure/core-rest-pipeline";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isGuardError } from "../../errors";
import {
  type ArmEmulator,
  type ArmResource,
  startArmEmulator,
  staticTokenCredential,
} from "../../local/arm-emulator";
import {
  FIREWALL_IP,
  HUB_FIREWALL_IP,
  HUB_RG,
  HUB_SUB,
  IDS,
  SPOKE_RG,
  SPOKE_SUB,
  topologySeed,
  VWAN_RG,
} from "../topology/estate";
import { errorCode, raw } from "./arm-emulator-helpers";

let emulator: ArmEmulator;
let spoke: NetworkManagementClient;
let hub: NetworkManagementClient;

const API = "?api-version=2025-05-01";

function client(subscription: string, target: ArmEmulator = emulator): NetworkManagementClient {
  return new NetworkManagementClient(staticTokenCredential(), subscription, {
    ...target.clientOptions(),
    retryOptions: { maxRetries: 0 },
  });
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function restError(promise: Promise<unknown>): Promise<{ statusCode?: number; code?: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRestError(error)) throw new Error(`expected a RestError, got ${String(error)}`);
  return {
    ...(error.statusCode !== undefined ? { statusCode: error.statusCode } : {}),
    ...(error.code !== undefined ? { code: error.code } : {}),
  };
}

const nameOf = (id: string) => id.split("/").at(-1) ?? id;

beforeAll(async () => {
  emulator = await startArmEmulator({ seed: topologySeed() });
  spoke = client(SPOKE_SUB);
  hub = client(HUB_SUB);
});
beforeEach(() => emulator.reset());
afterAll(async () => emulator.close());

describe("route tables", () => {
  it("GET by ID: routes embedded with prefix, next hop type and IP; the subnets that use the table", async () => {
    const table = await spoke.routeTables.get(SPOKE_RG, "rt-to-firewall");
    expect(table).toMatchObject({
      id: IDS.rtToFirewall,
      name: "rt-to-firewall",
      type: "Microsoft.Network/routeTables",
      location: "westeurope",
      provisioningState: "Succeeded",
      disableBgpRoutePropagation: true,
      etag: expect.stringMatching(/^W\/"/),
    });
    expect(table.routes?.map((r) => [r.name, r.addressPrefix, r.nextHopType, r.nextHopIpAddress])).toEqual([
      ["default-to-firewall", "0.0.0.0/0", "VirtualAppliance", FIREWALL_IP],
      ["to-onprem", "192.168.0.0/16", "VirtualNetworkGateway", undefined],
    ]);
    expect(table.routes?.[0]).toMatchObject({
      id: `${IDS.rtToFirewall}/routes/default-to-firewall`,
      type: "Microsoft.Network/routeTables/routes",
      provisioningState: "Succeeded",
    });
    expect(table.subnets?.map((s) => s.id)).toEqual([IDS.snetRouted, IDS.snetRoutedUser]);
    const unused = await spoke.routeTables.get(SPOKE_RG, "rt-no-default");
    expect(unused.subnets?.map((s) => s.id)).toEqual([IDS.snetNoDefault]);
  });

  it("lists per subscription and per resource group; 404s as ARM answers them", async () => {
    const names = ["rt-to-firewall", "rt-internet", "rt-no-default", "rt-unknown-appliance", "rt-legacy"];
    expect((await all(spoke.routeTables.listAll())).map((t) => t.name)).toEqual(names);
    expect((await all(spoke.routeTables.list(SPOKE_RG))).map((t) => t.name)).toEqual(names);
    expect(await all(hub.routeTables.listAll())).toEqual([]);
    expect(await restError(spoke.routeTables.get(SPOKE_RG, "nope"))).toEqual({
      statusCode: 404,
      code: "ResourceNotFound",
    });
    expect(await restError(spoke.routeTables.get("rg-missing", "rt-internet"))).toEqual({
      statusCode: 404,
      code: "ResourceGroupNotFound",
    });
  });

  it("pages a list with nextLink", async () => {
    const paged = await startArmEmulator({ seed: topologySeed(), pageSize: 2 });
    try {
      const tables = await all(client(SPOKE_SUB, paged).routeTables.listAll());
      expect(tables).toHaveLength(5);
      expect(paged.requests().filter((r) => r.path.endsWith("/routeTables"))).toHaveLength(3);
    } finally {
      await paged.close();
    }
  });
});

describe("Azure Firewalls", () => {
  it("GET by ID: private IP of its IP configuration, its policy", async () => {
    const firewall = await hub.azureFirewalls.get(HUB_RG, "fw-hub-weu");
    expect(firewall).toMatchObject({
      id: IDS.firewall,
      type: "Microsoft.Network/azureFirewalls",
      provisioningState: "Succeeded",
      firewallPolicy: { id: IDS.policy },
      sku: { name: "AZFW_VNet", tier: "Standard" },
    });
    expect(firewall.ipConfigurations?.map((c) => [c.privateIPAddress, c.subnet?.id])).toEqual([
      [FIREWALL_IP, IDS.firewallSubnet],
    ]);
  });

  it("a secured hub's firewall: its hub and the hub's private IP", async () => {
    const firewall = await hub.azureFirewalls.get(VWAN_RG, "fw-vhub-weu");
    expect(firewall.virtualHub?.id).toBe(IDS.hub);
    expect(firewall.hubIPAddresses?.privateIPAddress).toBe(HUB_FIREWALL_IP);
    expect(firewall.hubIPAddresses?.publicIPs?.addresses?.[0]?.address).toBe("20.50.0.10");
    expect(firewall.firewallPolicy?.id).toBe(IDS.vwanPolicy);
  });

  it("lists per subscription and per resource group", async () => {
    expect((await all(hub.azureFirewalls.listAll())).map((f) => f.name)).toEqual([
      "fw-hub-weu",
      "fw-legacy-weu",
      "fw-vhub-weu",
    ]);
    expect((await all(hub.azureFirewalls.list(VWAN_RG))).map((f) => f.name)).toEqual(["fw-vhub-weu"]);
    expect(await all(spoke.azureFirewalls.listAll())).toEqual([]);
    expect(await restError(hub.azureFirewalls.get(HUB_RG, "nope"))).toEqual({
      statusCode: 404,
      code: "ResourceNotFound",
    });
  });
});

describe("virtual hubs", () => {
  it("GET and lists; the hub names its Azure Firewall", async () => {
    const vhub = await hub.virtualHubs.get(VWAN_RG, "vhub-weu");
    expect(vhub).toMatchObject({
      id: IDS.hub,
      type: "Microsoft.Network/virtualHubs",
      azureFirewall: { id: IDS.hubFirewall },
      addressPrefix: "10.100.0.0/23",
      provisioningState: "Succeeded",
    });
    expect((await all(hub.virtualHubs.list())).map((h) => h.name)).toEqual(["vhub-weu"]);
    expect((await all(hub.virtualHubs.listByResourceGroup(VWAN_RG))).map((h) => h.name)).toEqual([
      "vhub-weu",
    ]);
    expect(await all(spoke.virtualHubs.list())).toEqual([]);
  });

  it("its virtual network connections: the remote VNet and whether it learns the default route", async () => {
    const connections = await all(hub.hubVirtualNetworkConnections.list(VWAN_RG, "vhub-weu"));
    expect(connections).toHaveLength(1);
    expect(connections[0]).toMatchObject({
      id: IDS.hubConnection,
      name: "conn-vwan-spoke",
      remoteVirtualNetwork: { id: IDS.vwanSpokeVnet },
      enableInternetSecurity: true,
      provisioningState: "Succeeded",
    });
    expect(await hub.hubVirtualNetworkConnections.get(VWAN_RG, "vhub-weu", "conn-vwan-spoke")).toEqual(
      connections[0],
    );
    expect(await restError(hub.hubVirtualNetworkConnections.get(VWAN_RG, "vhub-weu", "nope"))).toEqual({
      statusCode: 404,
      code: "NotFound",
    });
    expect(await restError(all(hub.hubVirtualNetworkConnections.list(VWAN_RG, "nope")))).toEqual({
      statusCode: 404,
      code: "ResourceNotFound",
    });
  });

  it("its routing intent: Internet and private traffic to the hub's firewall", async () => {
    const intents = await all(hub.routingIntentOperations.list(VWAN_RG, "vhub-weu"));
    expect(intents.map((i) => [i.name, i.type])).toEqual([
      ["vhub-weu_RoutingIntent", "Microsoft.Network/virtualHubs/routingIntent"],
    ]);
    expect(intents[0]?.routingPolicies).toEqual([
      { name: "InternetTraffic", destinations: ["Internet"], nextHop: IDS.hubFirewall },
      { name: "PrivateTraffic", destinations: ["PrivateTraffic"], nextHop: IDS.hubFirewall },
    ]);
    expect(await hub.routingIntentOperations.get(VWAN_RG, "vhub-weu", "vhub-weu_RoutingIntent")).toEqual(
      intents[0],
    );
    expect(await restError(hub.routingIntentOperations.get(VWAN_RG, "vhub-weu", "nope"))).toEqual({
      statusCode: 404,
      code: "NotFound",
    });
  });
});

describe("virtual networks", () => {
  it("embeds custom DNS servers, subnets (each readable by its own GET) and peerings", async () => {
    const vnet = await spoke.virtualNetworks.get(SPOKE_RG, "vnet-spoke-weu");
    expect(vnet.dhcpOptions?.dnsServers).toEqual([FIREWALL_IP]);
    expect(vnet.addressSpace?.addressPrefixes).toEqual(["10.20.0.0/16"]);
    expect(vnet.location).toBe("westeurope");
    expect(vnet.subnets?.map((s) => nameOf(s.id ?? ""))).toContain("snet-routed");
    const routed = vnet.subnets?.find((s) => s.id === IDS.snetRouted);
    expect(routed?.routeTable?.id).toBe(IDS.rtToFirewall);
    expect(await spoke.subnets.get(SPOKE_RG, "vnet-spoke-weu", "snet-routed")).toEqual(routed);
    expect(
      vnet.virtualNetworkPeerings?.map((p) => [p.name, p.remoteVirtualNetwork?.id, p.peeringState]),
    ).toEqual([["peer-to-hub", IDS.hubVnet, "Connected"]]);
    const peering = await spoke.virtualNetworkPeerings.get(SPOKE_RG, "vnet-spoke-weu", "peer-to-hub");
    expect(peering).toEqual(vnet.virtualNetworkPeerings?.[0]);
    expect(await all(spoke.virtualNetworkPeerings.list(SPOKE_RG, "vnet-spoke-weu"))).toEqual([peering]);
    expect(await restError(spoke.virtualNetworkPeerings.get(SPOKE_RG, "vnet-spoke-weu", "nope"))).toEqual({
      statusCode: 404,
      code: "NotFound",
    });
  });

  it("lists networks per subscription, each as its own GET returns it", async () => {
    const listed = await all(spoke.virtualNetworks.listAll());
    expect(listed.map((v) => v.name)).toEqual(["vnet-spoke-weu", "vnet-vwan-spoke"]);
    expect(listed[0]).toEqual(await spoke.virtualNetworks.get(SPOKE_RG, "vnet-spoke-weu"));
    // A network without DNS servers says nothing about them (Azure-provided DNS).
    expect(listed[1]?.dhcpOptions).toBeUndefined();
  });
});

describe("PUT /_emulator/resources", () => {
  const put = (body: unknown) => raw(emulator, "PUT", "/_emulator/resources", { body });

  it("replaces a route table; the next read shows the new route", async () => {
    const table = (await spoke.routeTables.get(SPOKE_RG, "rt-internet")) as unknown;
    expect(table).toBeDefined();
    const answer = await put({
      id: IDS.rtInternet,
      location: "westeurope",
      properties: {
        routes: [
          {
            name: "default",
            properties: {
              addressPrefix: "0.0.0.0/0",
              nextHopType: "VirtualAppliance",
              nextHopIpAddress: FIREWALL_IP,
            },
          },
        ],
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ upserted: "routeTables", id: IDS.rtInternet });
    const after = await spoke.routeTables.get(SPOKE_RG, "rt-internet");
    expect(after.routes?.map((r) => [r.nextHopType, r.nextHopIpAddress])).toEqual([
      ["VirtualAppliance", FIREWALL_IP],
    ]);
    expect(after.subnets?.map((s) => s.id)).toEqual([IDS.snetInternet]);
  });

  it("takes each kind by its ID: firewall, hub, connection, routing intent, network, peering, subnet", async () => {
    const firewallId = IDS.firewall.replace("fw-hub-weu", "fw-new");
    const bodies: [unknown, string][] = [
      [
        {
          id: firewallId,
          properties: { ipConfigurations: [{ name: "c", properties: { privateIPAddress: "10.0.1.5" } }] },
        },
        "azureFirewalls",
      ],
      [{ id: IDS.hub, properties: { azureFirewall: { id: firewallId } } }, "virtualHubs"],
      [
        {
          id: `${IDS.hub}/hubVirtualNetworkConnections/conn-2`,
          properties: { remoteVirtualNetwork: { id: IDS.spokeVnet } },
        },
        "hubVirtualNetworkConnections",
      ],
      [{ id: IDS.routingIntent, properties: { routingPolicies: [] } }, "routingIntents"],
      [
        { id: IDS.vwanSpokeVnet, properties: { dhcpOptions: { dnsServers: ["10.30.0.4"] } } },
        "virtualNetworks",
      ],
      [
        {
          id: `${IDS.vwanSpokeVnet}/virtualNetworkPeerings/p`,
          properties: { remoteVirtualNetwork: { id: IDS.hubVnet } },
        },
        "virtualNetworkPeerings",
      ],
      [
        { id: `${IDS.vwanSpokeVnet}/subnets/snet-2`, properties: { addressPrefix: "10.30.4.0/22" } },
        "subnets",
      ],
    ];
    for (const [body, kind] of bodies) {
      const answer = await put(body);
      expect({ kind, status: answer.status, text: answer.text }).toMatchObject({ kind, status: 200 });
      expect(answer.json).toMatchObject({ upserted: kind });
    }
    expect((await hub.virtualHubs.get(VWAN_RG, "vhub-weu")).azureFirewall?.id).toBe(firewallId);
    expect(
      (await all(hub.hubVirtualNetworkConnections.list(VWAN_RG, "vhub-weu"))).map((c) => c.name),
    ).toEqual(["conn-vwan-spoke", "conn-2"]);
    expect((await all(hub.routingIntentOperations.list(VWAN_RG, "vhub-weu")))[0]?.routingPolicies).toEqual(
      [],
    );
    // A network body without subnets keeps the subnets it has; the new subnet and peering are embedded.
    const vnet = await spoke.virtualNetworks.get(SPOKE_RG, "vnet-vwan-spoke");
    expect(vnet.dhcpOptions?.dnsServers).toEqual(["10.30.0.4"]);
    expect(vnet.subnets?.map((s) => s.name)).toEqual(["snet-vwan", "snet-2"]);
    expect(vnet.virtualNetworkPeerings?.map((p) => p.name)).toEqual(["p"]);
  });

  it("a network that embeds its subnets replaces them, as an ARM PUT does", async () => {
    const answer = await put({
      id: IDS.vwanSpokeVnet,
      properties: { subnets: [{ name: "snet-only", properties: { addressPrefix: "10.30.8.0/22" } }] },
    });
    expect(answer.status).toBe(200);
    const vnet = await spoke.virtualNetworks.get(SPOKE_RG, "vnet-vwan-spoke");
    expect(vnet.subnets?.map((s) => [s.id, s.addressPrefix])).toEqual([
      [`${IDS.vwanSpokeVnet}/subnets/snet-only`, "10.30.8.0/22"],
    ]);
    expect(await restError(spoke.subnets.get(SPOKE_RG, "vnet-vwan-spoke", "snet-vwan"))).toEqual({
      statusCode: 404,
      code: "NotFound",
    });
  });

  it("names the problem with a bad resource and changes nothing", async () => {
    const before = emulator.state();
    const cases: [unknown, RegExp][] = [
      [[], /expected one ARM resource/],
      [{ name: "x" }, /needs its full id/],
      [
        {
          id: `/subscriptions/${SPOKE_SUB}/resourceGroups/${SPOKE_RG}/providers/Microsoft.Network/publicIPAddresses/pip`,
        },
        /not the ID of an emulated resource type.*Microsoft\.Network\/routeTables/,
      ],
      [
        { id: IDS.rtInternet, type: "Microsoft.Network/azureFirewalls" },
        /type "Microsoft\.Network\/azureFirewalls" does not match its ID, which is a Microsoft\.Network\/routeTables/,
      ],
      [
        {
          id: IDS.rtInternet,
          properties: {
            routes: [{ name: "d", properties: { addressPrefix: "0.0.0.0/0", nextHopType: "Firewall" } }],
          },
        },
        /routes\[0\]\.properties\.nextHopType Firewall is not one of VirtualNetworkGateway, VnetLocal, Internet, VirtualAppliance, None/,
      ],
      [
        {
          id: IDS.rtInternet,
          properties: {
            routes: [
              { name: "d", properties: { addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance" } },
            ],
          },
        },
        /nextHopIpAddress is required when nextHopType is VirtualAppliance/,
      ],
      [
        { id: IDS.firewall, properties: { firewallPolicy: { id: IDS.hub } } },
        /properties\.firewallPolicy\.id .* is not a Microsoft\.Network\/firewallPolicies ID/,
      ],
      [
        { id: IDS.snetNoTable, properties: { routeTable: { id: IDS.firewall } } },
        /properties\.routeTable\.id .* is not a Microsoft\.Network\/routeTables ID/,
      ],
      [
        {
          id: IDS.hubConnection.replace("vhub-weu", "vhub-gone"),
          properties: { remoteVirtualNetwork: { id: IDS.spokeVnet } },
        },
        /parent .*vhub-gone \(Microsoft\.Network\/virtualHubs\) is not in the estate/,
      ],
      [{ id: IDS.hubConnection, properties: {} }, /properties\.remoteVirtualNetwork is required/],
      [
        {
          id: IDS.routingIntent,
          properties: {
            routingPolicies: [{ name: "i", destinations: ["InternetTraffic"], nextHop: IDS.hubFirewall }],
          },
        },
        /destinations: InternetTraffic is not one of Internet, PrivateTraffic/,
      ],
      [
        { id: IDS.spokeVnet, properties: { dhcpOptions: { dnsServers: "10.0.0.4" } } },
        /dhcpOptions\.dnsServers must be an array/,
      ],
      [{ id: IDS.spokeVnet, properties: { subnets: [{ id: IDS.snetVwan }] } }, /is not a child of/],
    ];
    for (const [body, message] of cases) {
      const answer = await put(body);
      expect({ body, status: answer.status, code: errorCode(answer) }).toMatchObject({
        status: 400,
        code: "InvalidRequestFormat",
      });
      expect((answer.json as { error: { message: string } }).error.message).toMatch(message);
    }
    expect(emulator.state()).toEqual(before);
  });
});

describe("seeds and unemulated APIs", () => {
  it("refuses a seed naming the resource and the field", async () => {
    const seed = topologySeed();
    const table = seed.routeTables?.[1] as ArmResource & {
      properties: { routes: { properties: Record<string, unknown> }[] };
    };
    delete table.properties.routes[0]?.properties.nextHopType;
    const error = await startArmEmulator({ seed }).then(
      async (started) => {
        await started.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(isGuardError(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(
      /seed routeTables\[1\] \(.*rt-internet\): properties\.routes\[0\]\.properties\.nextHopType is required/,
    );
  });

  it("what is not emulated still answers EmulatorUnsupported", async () => {
    const hubRouteTables = await raw(emulator, "GET", `${IDS.hub}/hubRouteTables${API}`);
    expect([hubRouteTables.status, errorCode(hubRouteTables)]).toEqual([404, "EmulatorUnsupported"]);
    const writeTable = await raw(emulator, "PUT", `${IDS.rtInternet}${API}`, { body: { properties: {} } });
    expect([writeTable.status, errorCode(writeTable)]).toEqual([400, "EmulatorUnsupported"]);
    const route = await raw(emulator, "GET", `${IDS.rtInternet}/routes/default-internet${API}`);
    expect([route.status, errorCode(route)]).toEqual([404, "EmulatorUnsupported"]);
  });
});
