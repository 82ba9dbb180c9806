// AKS clusters and subnets in ARM's wire format, as the emulator serves them: shared by the demo
// estates and the benchmarks' estates, so both look like what Azure returns.
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
  /** The policy named by the cluster's aks-egress-guard/firewall-policy tag. */
  policyId: string;
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
    tags: { "aks-egress-guard/firewall-policy": c.policyId, environment: c.environment },
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

export function subnetResource(id: string, cidr: string) {
  return {
    id,
    name: id.split("/").at(-1) ?? id,
    type: "Microsoft.Network/virtualNetworks/subnets",
    properties: { provisioningState: "Succeeded", addressPrefix: cidr },
  };
}
