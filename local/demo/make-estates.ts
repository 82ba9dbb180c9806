// Writes the demo estates (local/demo/estates/*.json): one emulated ARM estate per cloud, in ARM's
// wire format, each with a firewall policy that has drifted. The managed groups are made with the
// real drift engine ("what it looked like when it was right"), then changed the way people change
// them. Run after a build: node dist/local/demo/make-estates.js
import fs from "node:fs";
import path from "node:path";
import { type Cloud, DEFAULT_CATALOG_VERSION, type Feature } from "../../catalog";
import { desiredGroup } from "../../drift/render-group";
import type { ClusterProfile, RuleCollectionGroup } from "../../drift/types";
import {
  ALLOW_CORPORATE_SITES,
  clusterResource,
  DENY_RISKY_PROTOCOLS,
  groupResource,
  subnetResource,
} from "./arm-resources";

interface ClusterSpec {
  name: string;
  resourceGroup: string;
  region: string;
  pools: { name: string; vmSize: string; osType: "Linux" | "Windows"; subnet: string; cidr: string }[];
  addons: string[];
  features: Feature[];
  /** No aks-egress-guard/firewall-policy tag: found by its route, or not at all. */
  untagged?: boolean;
  /** Its subnets' route table (with a hub): to the firewall (default) or straight to the Internet. */
  route?: "firewall" | "internet";
}

interface EstateSpec {
  file: string;
  cloud: Cloud;
  subscription: string;
  region: string;
  clusters: ClusterSpec[];
  /** Clusters that used to exist: their collections are in the managed group, they are not. */
  deleted: ClusterSpec[];
  /** Builds the managed group as found (undefined: none yet). */
  drift?: (group: RuleCollectionGroup) => RuleCollectionGroup;
  /** Features the clusters gained after the managed group was last right (their rules are missing). */
  addedSince?: Feature[];
  /**
   * A hub network with an Azure Firewall whose policy is the estate's, and the spoke's route tables
   * (issue 13): one to the firewall's private IP, one straight to the Internet.
   */
  hub?: { firewallIp: string; hubPrefix: string; spokePrefix: string };
}

const NETWORK_RG = "rg-network";

function ids(estate: EstateSpec) {
  const policy = `/subscriptions/${estate.subscription}/resourceGroups/${NETWORK_RG}/providers/Microsoft.Network/firewallPolicies/fw-hub-${estate.region}`;
  const vnet = `/subscriptions/${estate.subscription}/resourceGroups/${NETWORK_RG}/providers/Microsoft.Network/virtualNetworks/vnet-spoke-${estate.region}`;
  const cluster = (c: ClusterSpec) =>
    `/subscriptions/${estate.subscription}/resourcegroups/${c.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${c.name}`;
  const network = (type: string, name: string) =>
    `/subscriptions/${estate.subscription}/resourceGroups/${NETWORK_RG}/providers/Microsoft.Network/${type}/${name}`;
  const hub = {
    vnet: network("virtualNetworks", `vnet-hub-${estate.region}`),
    firewall: network("azureFirewalls", `fw-${estate.region}`),
    toFirewall: network("routeTables", `rt-spoke-${estate.region}-to-firewall`),
    toInternet: network("routeTables", `rt-spoke-${estate.region}-internet`),
  };
  return { policy, vnet, cluster, hub };
}

function profile(estate: EstateSpec, c: ClusterSpec): ClusterProfile {
  return {
    id: ids(estate).cluster(c),
    name: c.name,
    cloud: estate.cloud,
    region: c.region,
    features: c.features,
    parameters: {},
    privateCluster: false,
    nodeSubnets: c.pools.map((p) => p.cidr).sort(),
  };
}

function clusterOf(estate: EstateSpec, c: ClusterSpec) {
  const { policy, vnet, cluster } = ids(estate);
  return clusterResource({
    id: cluster(c),
    name: c.name,
    region: c.region,
    ...(c.untagged ? {} : { policyId: policy }),
    environment: "demo",
    addons: c.addons,
    pools: c.pools.map((p) => ({
      name: p.name,
      vmSize: p.vmSize,
      osType: p.osType,
      subnetId: `${vnet}/subnets/${p.subnet}`,
    })),
  });
}

const platformBaseline: RuleCollectionGroup = {
  name: "platform-baseline",
  priority: 200,
  ruleCollections: [DENY_RISKY_PROTOCOLS, ALLOW_CORPORATE_SITES],
};

const SETTINGS = {
  groupName: "aks-egress-guard",
  groupPriority: 300,
  // What the app runs with unless told otherwise: the estates' groups were right under the default.
  catalogVersion: DEFAULT_CATALOG_VERSION,
  allowAnySource: false,
};

const pool = (
  name: string,
  vmSize: string,
  subnet: string,
  cidr: string,
  osType: "Linux" | "Windows" = "Linux",
) => ({ name, vmSize, subnet, cidr, osType });

const ESTATES: EstateSpec[] = [
  {
    file: "azurecloud.json",
    cloud: "AzureCloud",
    subscription: "00000000-0000-0000-0000-0000000000a1",
    region: "westeurope",
    clusters: [
      {
        name: "aks-weu-prod",
        resourceGroup: "rg-aks-weu",
        region: "westeurope",
        pools: [
          pool("system", "Standard_D4ds_v5", "snet-prod-system", "10.10.0.0/22"),
          pool("gpu", "Standard_NC6s_v3", "snet-prod-gpu", "10.10.4.0/22"),
        ],
        addons: ["omsagent"],
        features: ["azure-monitor", "gpu"],
      },
      {
        name: "aks-weu-batch",
        resourceGroup: "rg-aks-weu",
        region: "westeurope",
        pools: [pool("system", "Standard_D4ds_v5", "snet-batch", "10.10.8.0/22")],
        addons: [],
        features: [],
      },
      // No tag: its subnet's route leads to the hub firewall, whose policy is this one (issue 13).
      // Its rules were made when it was tagged; the route keeps it served.
      {
        name: "aks-weu-web",
        resourceGroup: "rg-aks-weu",
        region: "westeurope",
        pools: [pool("system", "Standard_D4ds_v5", "snet-web", "10.10.16.0/22")],
        addons: [],
        features: [],
        untagged: true,
      },
      // No tag, and its route sends internet traffic around the firewall: not served, reported.
      {
        name: "aks-weu-sandbox",
        resourceGroup: "rg-aks-sandbox",
        region: "westeurope",
        pools: [pool("system", "Standard_D4ds_v5", "snet-sandbox", "10.10.20.0/22")],
        addons: [],
        features: [],
        untagged: true,
        route: "internet",
      },
    ],
    hub: { firewallIp: "10.0.1.4", hubPrefix: "10.0.0.0/16", spokePrefix: "10.10.0.0/16" },
    deleted: [
      {
        name: "aks-weu-legacy",
        resourceGroup: "rg-aks-legacy",
        region: "westeurope",
        pools: [pool("system", "Standard_D2s_v3", "snet-legacy", "10.10.12.0/22")],
        addons: [],
        features: [],
      },
    ],
    drift: (group) => {
      const changed = structuredClone(group);
      // Someone opened another port by hand on the shared tunnel rule.
      for (const collection of changed.ruleCollections)
        for (const rule of collection.rules ?? [])
          if (rule.name.startsWith("net-tcp-9000-azurecloud.westeurope-") && "destinationPorts" in rule)
            rule.destinationPorts = ["9000", "8080"];
      // Someone added a rule of their own inside the managed group.
      changed.ruleCollections.push({
        ruleCollectionType: "FirewallPolicyFilterRuleCollection",
        name: "temp-allow-github",
        priority: 900,
        action: { type: "Allow" },
        rules: [
          {
            ruleType: "ApplicationRule",
            name: "github",
            description: "temporary, ticket OPS-4711",
            sourceAddresses: ["10.10.0.0/22"],
            protocols: [{ protocolType: "Https", port: 443 }],
            targetFqdns: ["github.com"],
          },
        ],
      });
      return changed;
    },
    // The GPU pool was added after the rules were made: its hosts are missing.
    addedSince: ["gpu"],
  },
  {
    file: "azurechinacloud.json",
    cloud: "AzureChinaCloud",
    subscription: "00000000-0000-0000-0000-0000000000c1",
    region: "chinaeast2",
    clusters: [
      {
        name: "aks-cne2-prod",
        resourceGroup: "rg-aks-cne2",
        region: "chinaeast2",
        pools: [pool("system", "Standard_D4s_v3", "snet-system", "10.20.0.0/22")],
        addons: ["azurepolicy"],
        features: ["azure-policy"],
      },
    ],
    hub: { firewallIp: "10.0.1.4", hubPrefix: "10.0.0.0/16", spokePrefix: "10.20.0.0/16" },
    deleted: [],
  },
  {
    file: "azureusgovernment.json",
    cloud: "AzureUSGovernment",
    subscription: "00000000-0000-0000-0000-0000000000d1",
    region: "usgovvirginia",
    clusters: [
      {
        name: "aks-usgv-prod",
        resourceGroup: "rg-aks-usgv",
        region: "usgovvirginia",
        pools: [
          pool("system", "Standard_D4s_v3", "snet-system", "10.30.0.0/22"),
          pool("win", "Standard_D4s_v3", "snet-windows", "10.30.4.0/22", "Windows"),
        ],
        addons: [],
        features: ["windows"],
      },
    ],
    hub: { firewallIp: "10.0.1.4", hubPrefix: "10.0.0.0/16", spokePrefix: "10.30.0.0/16" },
    deleted: [],
    // The rules were made before the Windows pool existed.
    drift: (group) => group,
    addedSince: ["windows"],
  },
];

/** The hub network, its firewall, the spoke's peering to it and the spoke's two route tables. */
function hubResources(estate: EstateSpec) {
  const spec = estate.hub;
  if (spec === undefined) return {};
  const { policy, vnet, hub } = ids(estate);
  const firewallSubnet = `${hub.vnet}/subnets/AzureFirewallSubnet`;
  const table = (id: string, route: Record<string, string>) => ({
    id,
    name: id.split("/").at(-1),
    type: "Microsoft.Network/routeTables",
    location: estate.region,
    properties: {
      provisioningState: "Succeeded",
      disableBgpRoutePropagation: true,
      routes: [{ name: "default", properties: { addressPrefix: "0.0.0.0/0", ...route } }],
    },
  });
  return {
    virtualNetworks: [
      {
        id: hub.vnet,
        location: estate.region,
        properties: {
          addressSpace: { addressPrefixes: [spec.hubPrefix] },
          subnets: [{ name: "AzureFirewallSubnet", properties: { addressPrefix: "10.0.1.0/26" } }],
        },
      },
      {
        id: vnet,
        location: estate.region,
        properties: {
          addressSpace: { addressPrefixes: [spec.spokePrefix] },
          virtualNetworkPeerings: [
            {
              name: "peer-to-hub",
              properties: {
                peeringState: "Connected",
                allowForwardedTraffic: true,
                remoteVirtualNetwork: { id: hub.vnet },
              },
            },
          ],
        },
      },
    ],
    routeTables: [
      table(hub.toFirewall, { nextHopType: "VirtualAppliance", nextHopIpAddress: spec.firewallIp }),
      table(hub.toInternet, { nextHopType: "Internet" }),
    ],
    azureFirewalls: [
      {
        id: hub.firewall,
        name: hub.firewall.split("/").at(-1),
        type: "Microsoft.Network/azureFirewalls",
        location: estate.region,
        properties: {
          provisioningState: "Succeeded",
          sku: { name: "AZFW_VNet", tier: "Standard" },
          ipConfigurations: [
            {
              name: "ipconfig",
              id: `${hub.firewall}/azureFirewallIpConfigurations/ipconfig`,
              properties: { privateIPAddress: spec.firewallIp, subnet: { id: firewallSubnet } },
            },
          ],
          firewallPolicy: { id: policy },
        },
      },
    ],
  };
}

function build(estate: EstateSpec) {
  const { policy, vnet, hub } = ids(estate);
  const added = estate.addedSince ?? [];
  // A cluster whose route bypasses the firewall was never served: it has no rules.
  const served = estate.clusters.filter((c) => c.route !== "internet").map((c) => profile(estate, c));
  const past = [...served, ...estate.deleted.map((c) => profile(estate, c))].map((p) => ({
    ...p,
    features: p.features.filter((f) => !added.includes(f)),
  }));
  const groups = [platformBaseline];
  if (estate.drift) groups.push(estate.drift(desiredGroup(past, undefined, SETTINGS).group));
  const tableOf = (c: ClusterSpec) =>
    estate.hub === undefined ? undefined : c.route === "internet" ? hub.toInternet : hub.toFirewall;
  return {
    managedClusters: estate.clusters.map((c) => clusterOf(estate, c)),
    subnets: estate.clusters.flatMap((c) =>
      c.pools.map((p) => subnetResource(`${vnet}/subnets/${p.subnet}`, p.cidr, tableOf(c))),
    ),
    ...hubResources(estate),
    firewallPolicies: [
      {
        id: policy,
        name: `fw-hub-${estate.region}`,
        type: "Microsoft.Network/FirewallPolicies",
        location: estate.region,
        properties: {
          provisioningState: "Succeeded",
          sku: { tier: "Standard" },
          threatIntelMode: "Alert",
          dnsSettings: { servers: [], enableProxy: true },
        },
      },
    ],
    ruleCollectionGroups: groups.map((g) => groupResource(policy, g)),
  };
}

const out = path.join(__dirname, "..", "..", "..", "local", "demo", "estates");
fs.mkdirSync(out, { recursive: true });
for (const estate of ESTATES) {
  fs.writeFileSync(path.join(out, estate.file), `${JSON.stringify(build(estate), null, 2)}\n`);
  console.log(`wrote local/demo/estates/${estate.file}`);
}
