import type { AzureFirewallFacts, VirtualHubFacts } from "../../azure/topology";
// A hub-and-spoke estate in ARM's wire format, for the emulator, the topology adapter and the egress
// mapping: a hub VNet (another subscription) with an Azure Firewall, spoke route tables that lead to it,
// bypass it or point elsewhere, a legacy firewall whose policy is not in scope, and a Virtual WAN
// secured hub whose routing intent sends a connected spoke's Internet traffic to its firewall.
import type { ArmResource, EmulatorSeed } from "../../local/arm-emulator";
import { type NetworkTopology, resourceKey } from "../../topology";

export const SPOKE_SUB = "00000000-0000-0000-0000-000000000001";
export const HUB_SUB = "00000000-0000-0000-0000-000000000002";
export const SPOKE_RG = "rg-spoke-weu";
export const HUB_RG = "rg-hub-weu";
export const VWAN_RG = "rg-vwan-weu";
export const AKS_RG = "rg-aks-weu";

const network = (subscription: string, group: string, type: string, name: string) =>
  `/subscriptions/${subscription}/resourceGroups/${group}/providers/Microsoft.Network/${type}/${name}`;

const HUB_VNET = network(HUB_SUB, HUB_RG, "virtualNetworks", "vnet-hub-weu");
const SPOKE_VNET = network(SPOKE_SUB, SPOKE_RG, "virtualNetworks", "vnet-spoke-weu");
const VWAN_SPOKE_VNET = network(SPOKE_SUB, SPOKE_RG, "virtualNetworks", "vnet-vwan-spoke");

export const IDS = {
  hubVnet: HUB_VNET,
  spokeVnet: SPOKE_VNET,
  vwanSpokeVnet: VWAN_SPOKE_VNET,
  firewallSubnet: `${HUB_VNET}/subnets/AzureFirewallSubnet`,
  firewall: network(HUB_SUB, HUB_RG, "azureFirewalls", "fw-hub-weu"),
  legacyFirewall: network(HUB_SUB, HUB_RG, "azureFirewalls", "fw-legacy-weu"),
  hubFirewall: network(HUB_SUB, VWAN_RG, "azureFirewalls", "fw-vhub-weu"),
  policy: network(HUB_SUB, HUB_RG, "firewallPolicies", "fw-policy-hub"),
  legacyPolicy: network(HUB_SUB, HUB_RG, "firewallPolicies", "fw-policy-legacy"),
  vwanPolicy: network(HUB_SUB, VWAN_RG, "firewallPolicies", "fw-policy-vwan"),
  hub: network(HUB_SUB, VWAN_RG, "virtualHubs", "vhub-weu"),
  hubConnection: `${network(HUB_SUB, VWAN_RG, "virtualHubs", "vhub-weu")}/hubVirtualNetworkConnections/conn-vwan-spoke`,
  routingIntent: `${network(HUB_SUB, VWAN_RG, "virtualHubs", "vhub-weu")}/routingIntent/vhub-weu_RoutingIntent`,
  peeringToHub: `${SPOKE_VNET}/virtualNetworkPeerings/peer-to-hub`,
  rtToFirewall: network(SPOKE_SUB, SPOKE_RG, "routeTables", "rt-to-firewall"),
  rtInternet: network(SPOKE_SUB, SPOKE_RG, "routeTables", "rt-internet"),
  rtNoDefault: network(SPOKE_SUB, SPOKE_RG, "routeTables", "rt-no-default"),
  rtUnknownAppliance: network(SPOKE_SUB, SPOKE_RG, "routeTables", "rt-unknown-appliance"),
  rtLegacy: network(SPOKE_SUB, SPOKE_RG, "routeTables", "rt-legacy"),
  snetRouted: `${SPOKE_VNET}/subnets/snet-routed`,
  snetRoutedUser: `${SPOKE_VNET}/subnets/snet-routed-user`,
  snetInternet: `${SPOKE_VNET}/subnets/snet-internet`,
  snetNoTable: `${SPOKE_VNET}/subnets/snet-no-table`,
  snetNoDefault: `${SPOKE_VNET}/subnets/snet-no-default`,
  snetUnknownAppliance: `${SPOKE_VNET}/subnets/snet-unknown-appliance`,
  snetLegacy: `${SPOKE_VNET}/subnets/snet-legacy`,
  snetVwan: `${VWAN_SPOKE_VNET}/subnets/snet-vwan`,
} as const;

export const FIREWALL_IP = "10.0.1.4";
export const LEGACY_FIREWALL_IP = "10.0.2.4";
export const HUB_FIREWALL_IP = "10.100.0.132";
export const UNKNOWN_APPLIANCE_IP = "10.0.3.10";

function route(name: string, addressPrefix: string, nextHopType: string, nextHopIpAddress?: string) {
  return {
    name,
    properties: { addressPrefix, nextHopType, ...(nextHopIpAddress ? { nextHopIpAddress } : {}) },
  };
}

function routeTable(id: string, routes: ReturnType<typeof route>[]): ArmResource {
  return { id, location: "westeurope", properties: { disableBgpRoutePropagation: true, routes } };
}

function subnet(id: string, addressPrefix: string, routeTableId?: string) {
  return {
    id,
    properties: { addressPrefix, ...(routeTableId ? { routeTable: { id: routeTableId } } : {}) },
  };
}

function vnetFirewall(id: string, policyId: string, privateIPAddress: string, subnetId: string): ArmResource {
  return {
    id,
    location: "westeurope",
    properties: {
      sku: { name: "AZFW_VNet", tier: "Standard" },
      threatIntelMode: "Alert",
      ipConfigurations: [
        {
          name: "ipconfig",
          id: `${id}/azureFirewallIpConfigurations/ipconfig`,
          properties: { privateIPAddress, subnet: { id: subnetId } },
        },
      ],
      firewallPolicy: { id: policyId },
    },
  };
}

/** The network side of the estate: no clusters, no rule collection groups. */
export function topologySeed(): EmulatorSeed {
  return {
    virtualNetworks: [
      {
        id: IDS.hubVnet,
        location: "westeurope",
        properties: {
          addressSpace: { addressPrefixes: ["10.0.0.0/16"] },
          subnets: [
            { name: "AzureFirewallSubnet", properties: { addressPrefix: "10.0.1.0/26" } },
            { name: "AzureFirewallSubnet-legacy", properties: { addressPrefix: "10.0.2.0/26" } },
          ],
        },
      },
      {
        id: IDS.spokeVnet,
        location: "westeurope",
        properties: {
          addressSpace: { addressPrefixes: ["10.20.0.0/16"] },
          // The firewall's DNS proxy answers the spoke's DNS (a custom DNS server, UDP 53 to it).
          dhcpOptions: { dnsServers: [FIREWALL_IP] },
          subnets: [
            subnet(IDS.snetRouted, "10.20.0.0/22", IDS.rtToFirewall),
            subnet(IDS.snetRoutedUser, "10.20.4.0/22", IDS.rtToFirewall),
            subnet(IDS.snetInternet, "10.20.8.0/24", IDS.rtInternet),
            subnet(IDS.snetNoTable, "10.20.9.0/24"),
            subnet(IDS.snetNoDefault, "10.20.10.0/24", IDS.rtNoDefault),
            subnet(IDS.snetUnknownAppliance, "10.20.11.0/24", IDS.rtUnknownAppliance),
            subnet(IDS.snetLegacy, "10.20.12.0/24", IDS.rtLegacy),
          ],
          virtualNetworkPeerings: [
            {
              name: "peer-to-hub",
              properties: {
                peeringState: "Connected",
                allowForwardedTraffic: true,
                remoteVirtualNetwork: { id: IDS.hubVnet },
              },
            },
          ],
        },
      },
      {
        id: IDS.vwanSpokeVnet,
        location: "westeurope",
        properties: {
          addressSpace: { addressPrefixes: ["10.30.0.0/16"] },
          subnets: [subnet(IDS.snetVwan, "10.30.0.0/22")],
        },
      },
    ],
    routeTables: [
      routeTable(IDS.rtToFirewall, [
        route("default-to-firewall", "0.0.0.0/0", "VirtualAppliance", FIREWALL_IP),
        route("to-onprem", "192.168.0.0/16", "VirtualNetworkGateway"),
      ]),
      routeTable(IDS.rtInternet, [route("default-internet", "0.0.0.0/0", "Internet")]),
      routeTable(IDS.rtNoDefault, [route("spokes", "10.0.0.0/8", "VirtualAppliance", FIREWALL_IP)]),
      routeTable(IDS.rtUnknownAppliance, [
        route("default-to-nva", "0.0.0.0/0", "VirtualAppliance", UNKNOWN_APPLIANCE_IP),
      ]),
      routeTable(IDS.rtLegacy, [
        route("default-legacy", "0.0.0.0/0", "VirtualAppliance", LEGACY_FIREWALL_IP),
      ]),
    ],
    firewallPolicies: [
      { id: IDS.policy, location: "westeurope", properties: { dnsSettings: { enableProxy: true } } },
      { id: IDS.legacyPolicy, location: "westeurope", properties: {} },
      { id: IDS.vwanPolicy, location: "westeurope", properties: {} },
    ],
    azureFirewalls: [
      vnetFirewall(IDS.firewall, IDS.policy, FIREWALL_IP, IDS.firewallSubnet),
      vnetFirewall(
        IDS.legacyFirewall,
        IDS.legacyPolicy,
        LEGACY_FIREWALL_IP,
        `${IDS.hubVnet}/subnets/AzureFirewallSubnet-legacy`,
      ),
      {
        id: IDS.hubFirewall,
        location: "westeurope",
        properties: {
          sku: { name: "AZFW_Hub", tier: "Standard" },
          virtualHub: { id: IDS.hub },
          firewallPolicy: { id: IDS.vwanPolicy },
          hubIPAddresses: {
            publicIPs: { addresses: [{ address: "20.50.0.10" }], count: 1 },
            privateIPAddress: HUB_FIREWALL_IP,
          },
        },
      },
    ],
    virtualHubs: [
      {
        id: IDS.hub,
        location: "westeurope",
        properties: {
          addressPrefix: "10.100.0.0/23",
          virtualWan: {
            id: `/subscriptions/${HUB_SUB}/resourceGroups/${VWAN_RG}/providers/Microsoft.Network/virtualWans/vwan-weu`,
          },
          azureFirewall: { id: IDS.hubFirewall },
          sku: "Standard",
          routingState: "Provisioned",
        },
      },
    ],
    hubVirtualNetworkConnections: [
      {
        id: IDS.hubConnection,
        properties: {
          remoteVirtualNetwork: { id: IDS.vwanSpokeVnet },
          enableInternetSecurity: true,
          allowHubToRemoteVnetTransit: true,
          allowRemoteVnetToUseHubVnetGateways: true,
        },
      },
    ],
    routingIntents: [
      {
        id: IDS.routingIntent,
        properties: {
          routingPolicies: [
            { name: "InternetTraffic", destinations: ["Internet"], nextHop: IDS.hubFirewall },
            { name: "PrivateTraffic", destinations: ["PrivateTraffic"], nextHop: IDS.hubFirewall },
          ],
        },
      },
    ],
  };
}

/** An untagged AKS cluster in ARM's wire format, one pool per subnet given. */
export function clusterResource(
  name: string,
  pools: Record<string, string>,
  outboundType = "userDefinedRouting",
): ArmResource {
  return {
    id: `/subscriptions/${SPOKE_SUB}/resourcegroups/${AKS_RG}/providers/Microsoft.ContainerService/managedClusters/${name}`,
    name,
    type: "Microsoft.ContainerService/ManagedClusters",
    location: "westeurope",
    tags: {},
    properties: {
      provisioningState: "Succeeded",
      kubernetesVersion: "1.30.6",
      dnsPrefix: name,
      fqdn: `${name}-3f9c2a1b.hcp.westeurope.azmk8s.io`,
      agentPoolProfiles: Object.entries(pools).map(([pool, subnetId], i) => ({
        name: pool,
        count: 2,
        vmSize: "Standard_D4ds_v5",
        osType: "Linux",
        mode: i === 0 ? "System" : "User",
        type: "VirtualMachineScaleSets",
        vnetSubnetID: subnetId,
      })),
      networkProfile: { networkPlugin: "azure", outboundType, loadBalancerSku: "standard" },
      apiServerAccessProfile: { enablePrivateCluster: false },
    },
  };
}

/** What azure/topology.ts must read from topologySeed(): the facts the mapping tests start from. */
export const SEED_FACTS: {
  firewall: AzureFirewallFacts;
  legacyFirewall: AzureFirewallFacts;
  hubFirewall: AzureFirewallFacts;
  hub: VirtualHubFacts;
} = {
  firewall: {
    id: IDS.firewall,
    name: "fw-hub-weu",
    privateIpAddresses: [FIREWALL_IP],
    firewallPolicyId: IDS.policy,
    virtualNetworkId: IDS.hubVnet,
  },
  legacyFirewall: {
    id: IDS.legacyFirewall,
    name: "fw-legacy-weu",
    privateIpAddresses: [LEGACY_FIREWALL_IP],
    firewallPolicyId: IDS.legacyPolicy,
    virtualNetworkId: IDS.hubVnet,
  },
  hubFirewall: {
    id: IDS.hubFirewall,
    name: "fw-vhub-weu",
    privateIpAddresses: [],
    hubPrivateIpAddress: HUB_FIREWALL_IP,
    firewallPolicyId: IDS.vwanPolicy,
    virtualHubId: IDS.hub,
  },
  hub: {
    id: IDS.hub,
    name: "vhub-weu",
    azureFirewallId: IDS.hubFirewall,
    followed: true,
    connections: [
      {
        id: IDS.hubConnection,
        name: "conn-vwan-spoke",
        remoteVirtualNetworkId: IDS.vwanSpokeVnet,
        enableInternetSecurity: true,
      },
    ],
    routingPolicies: [
      { name: "InternetTraffic", destinations: ["Internet"], nextHop: IDS.hubFirewall },
      { name: "PrivateTraffic", destinations: ["PrivateTraffic"], nextHop: IDS.hubFirewall },
    ],
  },
};

/** Three untagged clusters, one behind each firewall: each is served by the policy its routes lead to. */
export function routedClusters(): ArmResource[] {
  return [
    clusterResource("aks-routed", { system: IDS.snetRouted }),
    clusterResource("aks-legacy", { system: IDS.snetLegacy }),
    clusterResource("aks-vwan", { system: IDS.snetVwan }),
  ];
}

/** The estate's three firewalls as a read topology over `subscriptions`, without route tables or hubs. */
export function firewallsOnly(subscriptions: string[]): NetworkTopology {
  return {
    subscriptions,
    routeTables: {},
    firewalls: Object.fromEntries(
      [SEED_FACTS.firewall, SEED_FACTS.legacyFirewall, SEED_FACTS.hubFirewall].map((f) => [
        resourceKey(f.id),
        f,
      ]),
    ),
    virtualHubs: {},
    unread: [],
  };
}
