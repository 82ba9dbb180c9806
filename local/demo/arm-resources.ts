// AKS clusters, subnets and rule collection groups in ARM's wire format, as the emulator serves them:
// shared by the demo estates and the benchmarks' estates, so both look like what Azure returns.
import type { RuleCollection, RuleCollectionGroup } from "../../drift/types";

export interface PoolShape {
  name: string;
  vmSize: string;
  osType?: "Linux" | "Windows";
  subnetId: string;
}

export interface ClusterShape {
  id: string;
  name: string;
  region: string;
  /** The policy named by the cluster's aks-egress-guard/firewall-policy tag (none: untagged). */
  policyId?: string;
  environment: string;
  pools: PoolShape[];
  addons: string[];
}

export function clusterResource(c: ClusterShape) {
  return {
    id: c.id,
    name: c.name,
    type: "Microsoft.ContainerService/ManagedClusters",
    location: c.region,
    tags: {
      ...(c.policyId ? { "aks-egress-guard/firewall-policy": c.policyId } : {}),
      environment: c.environment,
    },
    identity: { type: "SystemAssigned" },
    sku: { name: "Base", tier: "Standard" },
    properties: {
      provisioningState: "Succeeded",
      powerState: { code: "Running" },
      kubernetesVersion: "1.30.6",
      dnsPrefix: c.name,
      fqdn: `${c.name}-3f9c2a1b.hcp.${c.region}.azmk8s.io`,
      agentPoolProfiles: c.pools.map((p, i) => ({
        name: p.name,
        count: 2,
        vmSize: p.vmSize,
        osType: p.osType ?? "Linux",
        osSKU: p.osType === "Windows" ? "Windows2022" : "Ubuntu",
        mode: i === 0 ? "System" : "User",
        type: "VirtualMachineScaleSets",
        vnetSubnetID: p.subnetId,
        provisioningState: "Succeeded",
      })),
      addonProfiles: Object.fromEntries(c.addons.map((a) => [a, { enabled: true, config: {} }])),
      networkProfile: {
        networkPlugin: "azure",
        outboundType: "userDefinedRouting",
        loadBalancerSku: "standard",
      },
      apiServerAccessProfile: { enablePrivateCluster: false },
      // Azure names it MC_<resource group>_<cluster>_<region>.
      nodeResourceGroup: `MC_${c.id.split("/")[4] ?? ""}_${c.name}_${c.region}`,
    },
  };
}

export function subnetResource(id: string, cidr: string, routeTableId?: string) {
  return {
    id,
    name: id.split("/").at(-1) ?? id,
    type: "Microsoft.Network/virtualNetworks/subnets",
    properties: {
      provisioningState: "Succeeded",
      addressPrefix: cidr,
      ...(routeTableId ? { routeTable: { id: routeTableId } } : {}),
    },
  };
}

/** A foreign team's Deny collection: a foreign group the app must never touch. */
export const DENY_RISKY_PROTOCOLS: RuleCollection = {
  ruleCollectionType: "FirewallPolicyFilterRuleCollection",
  name: "deny-risky-protocols",
  priority: 110,
  action: { type: "Deny" },
  rules: [
    {
      ruleType: "NetworkRule",
      name: "deny-smb-outbound",
      description: "No SMB to the internet",
      ipProtocols: ["TCP"],
      sourceAddresses: ["10.0.0.0/8"],
      destinationAddresses: ["*"],
      destinationPorts: ["445"],
    },
  ],
};

export const ALLOW_CORPORATE_SITES: RuleCollection = {
  ruleCollectionType: "FirewallPolicyFilterRuleCollection",
  name: "allow-corporate-sites",
  priority: 120,
  action: { type: "Allow" },
  rules: [
    {
      ruleType: "ApplicationRule",
      name: "intranet",
      description: "Corporate intranet",
      sourceAddresses: ["10.0.0.0/8"],
      protocols: [{ protocolType: "Https", port: 443 }],
      targetFqdns: ["intranet.contoso.com"],
    },
  ],
};

/** A rule collection group of a policy, as ARM returns it. */
export function groupResource(policyId: string, group: RuleCollectionGroup) {
  return {
    id: `${policyId}/ruleCollectionGroups/${group.name}`,
    name: group.name,
    type: "Microsoft.Network/FirewallPolicies/RuleCollectionGroups",
    etag: 'W/"00000000-0000-4000-8000-000000000001"',
    properties: {
      provisioningState: "Succeeded",
      priority: group.priority,
      ruleCollections: group.ruleCollections,
    },
  };
}
