import { describe, expect, it } from "vitest";
import { featureOrder } from "../../catalog";
import {
  type ClusterFacts,
  detectFeatures,
  dnsServersOf,
  needsApiServerAddress,
  profileFromFacts,
} from "../../drift/cluster-profile";
import { servesCluster } from "../../drift/served";

const POLICY = "/subscriptions/s1/resourceGroups/net/providers/Microsoft.Network/firewallPolicies/fw";
const OTHER = "/subscriptions/s1/resourceGroups/net/providers/Microsoft.Network/firewallPolicies/fw2";

const facts = (over: Partial<ClusterFacts> = {}): ClusterFacts => ({
  id: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1",
  name: "aks1",
  location: "westeurope",
  provisioningState: "Succeeded",
  privateCluster: false,
  outboundType: "userDefinedRouting",
  agentPools: [{ name: "sys", vmSize: "Standard_D4s_v5", osType: "Linux", vnetSubnetId: "/x" }],
  addons: {},
  azureMonitorMetrics: false,
  defender: false,
  tags: {},
  ...over,
});

describe("features detected from a cluster", () => {
  it.each([
    ["no add-ons, Linux D-series", facts(), []],
    ["omsagent", facts({ addons: { omsagent: true } }), ["azure-monitor"]],
    ["omsagent disabled", facts({ addons: { omsagent: false } }), []],
    ["managed Prometheus", facts({ azureMonitorMetrics: true }), ["azure-monitor"]],
    ["azurepolicy", facts({ addons: { azurepolicy: true } }), ["azure-policy"]],
    [
      "key vault CSI",
      facts({ addons: { azurekeyvaultsecretsprovider: true } }),
      ["keyvault-secrets-provider"],
    ],
    ["Defender", facts({ defender: true }), ["defender"]],
    ["Application Insights autoinstrumentation", facts({ appMonitoring: true }), ["azure-monitor"]],
    ["cost analysis", facts({ costAnalysis: true }), ["cost-analysis"]],
    ["workload identity", facts({ workloadIdentity: true }), ["workload-identity"]],
    ["the Istio add-on", facts({ serviceMesh: "Istio" }), ["istio"]],
    ["a disabled service mesh", facts({ serviceMesh: "Disabled" }), []],
    ["application routing", facts({ webAppRouting: true }), ["application-routing"]],
    [
      "all of them at once",
      facts({
        addons: { omsagent: true, azurekeyvaultsecretsprovider: true },
        workloadIdentity: true,
        serviceMesh: "istio",
        webAppRouting: true,
        costAnalysis: true,
      }),
      [
        "azure-monitor",
        "keyvault-secrets-provider",
        "cost-analysis",
        "workload-identity",
        "istio",
        "application-routing",
      ],
    ],
    ["a Windows pool", facts({ agentPools: [{ name: "win", osType: "Windows" }] }), ["windows"]],
    ["an NC pool", facts({ agentPools: [{ name: "gpu", vmSize: "Standard_NC6s_v3" }] }), ["gpu"]],
    ["an ND pool", facts({ agentPools: [{ name: "gpu", vmSize: "standard_nd96asr_v4" }] }), ["gpu"]],
    ["a D pool named like a GPU", facts({ agentPools: [{ name: "nc", vmSize: "Standard_DC4s_v3" }] }), []],
  ])("%s", (_, cluster, expected) => {
    expect(featureOrder(detectFeatures(cluster))).toEqual(expected);
  });
});

describe("cluster profile", () => {
  it("combines configured and detected features, sorts subnets, normalises the region", () => {
    const result = profileFromFacts(
      facts({ location: "West Europe", addons: { omsagent: true } }),
      ["10.1.0.0/24", "10.0.0.0/24", "10.1.0.0/24"],
      {
        cloud: "AzureCloud",
        defaultFeatures: ["ubuntu-updates"],
      },
    );
    expect(result.profile).toMatchObject({
      region: "westeurope",
      features: ["ubuntu-updates", "azure-monitor"],
      nodeSubnets: ["10.0.0.0/24", "10.1.0.0/24"],
    });
    expect(result.findings).toEqual([]);
  });

  it("applies the features tag (+add, -remove) and the mode and policy tags, case-insensitively", () => {
    const result = profileFromFacts(
      facts({
        addons: { omsagent: true },
        tags: {
          "AKS-Egress-Guard/Features": "+gpu,-azure-monitor,windows",
          "aks-egress-guard/mode": "Approve",
          "aks-egress-guard/firewall-policy": POLICY,
        },
      }),
      ["10.0.0.0/24"],
      { cloud: "AzureCloud", defaultFeatures: [] },
    );
    expect(result.profile?.features).toEqual(["gpu", "windows"]);
    expect(result.profile?.mode).toBe("approve");
    expect(result.firewallPolicyId).toBe(POLICY);
  });

  it.each([
    [{ "aks-egress-guard/features": "+quantum" }, /features="\+quantum" ignored: unknown feature "quantum"/],
    [{ "aks-egress-guard/mode": "yolo" }, /mode="yolo" ignored: valid modes are audit, auto, approve/],
    [
      { "aks-egress-guard/firewall-policy": "fw-policy" },
      /firewall-policy="fw-policy" ignored: expected a firewall policy resource ID/,
    ],
  ])("reports a bad tag %j and ignores it", (tags, message) => {
    const result = profileFromFacts(facts({ tags, addons: { omsagent: true } }), [], {
      cloud: "AzureCloud",
      defaultFeatures: [],
    });
    expect(result.findings).toEqual([
      expect.objectContaining({
        code: "BAD_TAG",
        severity: "warning",
        message: expect.stringMatching(message),
      }),
    ]);
    expect(result.profile?.features).toEqual(["azure-monitor"]);
    expect(result.profile?.mode).toBeUndefined();
  });

  it("says when egress does not pass the firewall, and when the cluster is changing", () => {
    const result = profileFromFacts(
      facts({ outboundType: "loadBalancer", provisioningState: "Upgrading" }),
      [],
      { cloud: "AzureCloud", defaultFeatures: [] },
    );
    expect(result.findings.map((f) => f.code)).toEqual(["OUTBOUND_NOT_UDR", "CLUSTER_CHANGING"]);
  });

  it("passes an unknown region through, so the drift engine keeps the cluster's collections", () => {
    const result = profileFromFacts(facts({ location: "ChinaEast2" }), ["10.0.0.0/24"], {
      cloud: "AzureCloud",
      defaultFeatures: [],
    });
    expect(result.profile.region).toBe("chinaeast2");
  });
});

describe("which clusters a policy serves", () => {
  const id = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1";
  const base = { policyId: POLICY, managedClusterIds: new Set<string>(), includeUntaggedWhenDefault: false };
  it.each([
    ["tagged with it (other casing)", { id, taggedPolicyId: POLICY.toUpperCase() }, base, true],
    [
      "tagged with another policy, even if its group holds the cluster",
      { id, taggedPolicyId: OTHER },
      { ...base, managedClusterIds: new Set([id.toLowerCase()]) },
      false,
    ],
    ["untagged but in its group", { id }, { ...base, managedClusterIds: new Set([id.toLowerCase()]) }, true],
    ["untagged, not default", { id }, base, false],
    [
      "untagged, default, opted in",
      { id },
      { ...base, defaultPolicyId: POLICY, includeUntaggedWhenDefault: true },
      true,
    ],
    ["untagged, default, not opted in", { id }, { ...base, defaultPolicyId: POLICY }, false],
  ])("%s", (_, cluster, options, expected) => {
    expect(servesCluster(cluster, options)).toBe(expected);
  });
});

describe("dnsServersOf: custom DNS servers from the node subnets' virtual networks", () => {
  const vnet = (name: string) =>
    `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/${name}`;
  const pools = [
    { name: "system", vnetSubnetId: `${vnet("VNet-A")}/subnets/snet-a` },
    { name: "user", vnetSubnetId: `${vnet("vnet-b")}/subnets/snet-b` },
    { name: "elsewhere", vnetSubnetId: `${vnet("vnet-unlisted")}/subnets/snet-c` },
    { name: "managed" },
  ];
  const virtualNetworks = {
    [vnet("vnet-a").toLowerCase()]: { dnsServers: ["10.0.0.4", "168.63.129.16", "not-an-ip"] },
    [vnet("vnet-b").toLowerCase()]: { dnsServers: ["10.0.0.4", "10.1.0.4"] },
  };

  it("every pool's network, in order, without duplicates or Azure-provided DNS; a non-address is named", () => {
    expect(dnsServersOf({ agentPools: pools }, { virtualNetworks })).toEqual({
      servers: ["10.0.0.4", "10.1.0.4"],
      invalid: ["not-an-ip"],
    });
  });

  it("fills the dnsServers parameter only when the network names custom servers", () => {
    const base = { cloud: "AzureCloud" as const, defaultFeatures: [] };
    const withPools = { ...facts(), agentPools: pools };
    const filled = profileFromFacts(withPools, [], base, { virtualNetworks });
    expect(filled.profile.parameters).toEqual({ dnsServers: ["10.0.0.4", "10.1.0.4"] });
    expect(filled.findings.map((f) => f.code)).toContain("BAD_DNS_SERVER");
    const azure = { [vnet("vnet-a").toLowerCase()]: { dnsServers: ["168.63.129.16"] } };
    expect(profileFromFacts(withPools, [], base, { virtualNetworks: azure }).profile.parameters).toEqual({});
    expect(profileFromFacts(withPools, [], base).profile.parameters).toEqual({});
  });
});

describe("values only the cluster knows: the network's, and the parameters tag over them", () => {
  const settings = { cloud: "AzureCloud" as const, defaultFeatures: [] };
  const network = {
    virtualNetworks: {},
    apiServerSubnet: ["10.1.0.0/28", "not-a-cidr"],
    apiServerAddresses: ["20.1.2.3"],
  };
  const podApi = { "aks-egress-guard/features": "+pod-api-access" };
  const withFqdn = (over: Partial<ClusterFacts> = {}) =>
    facts({ fqdn: "aks1-x.hcp.westeurope.azmk8s.io", ...over });

  it("fills apiServerSubnet from the API server subnet's valid prefixes", () => {
    const result = profileFromFacts(withFqdn(), [], settings, network);
    expect(result.profile.parameters.apiServerSubnet).toEqual(["10.1.0.0/28"]);
    expect(result.parameterOrigins.apiServerSubnet).toBe("network");
  });

  it("fills apiServerIp only for a public cluster whose rows name the address (pod-api-access)", () => {
    expect(
      profileFromFacts(withFqdn(), [], settings, network).profile.parameters.apiServerIp,
    ).toBeUndefined();
    const pod = profileFromFacts(withFqdn({ tags: podApi }), [], settings, network).profile;
    expect(pod.parameters.apiServerIp).toEqual(["20.1.2.3"]);
    expect(pod.apiServerIpFromFqdn).toBe(true);
    const privateOne = profileFromFacts(
      withFqdn({ tags: podApi, privateCluster: true }),
      [],
      settings,
      network,
    );
    expect(privateOne.profile.parameters.apiServerIp).toBeUndefined();
  });

  it("needsApiServerAddress: public, with an FQDN, pod-api-access, and no address in the tag", () => {
    expect(needsApiServerAddress(withFqdn(), ["pod-api-access"])).toBe(true);
    expect(needsApiServerAddress(withFqdn(), [])).toBe(false);
    expect(needsApiServerAddress(facts(), ["pod-api-access"])).toBe(false);
    expect(needsApiServerAddress(withFqdn({ privateCluster: true }), ["pod-api-access"])).toBe(false);
    expect(
      needsApiServerAddress(
        withFqdn({ tags: { "aks-egress-guard/parameters": "dnsServers=10.0.0.4; apiServerIp=20.1.1.1" } }),
        ["pod-api-access"],
      ),
    ).toBe(false);
  });

  it("the tag aks-egress-guard/parameters overrides the network, value by value", () => {
    const tags = {
      ...podApi,
      "aks-egress-guard/parameters": "apiServerIp=20.50.1.10; dnsServers=10.0.0.4,10.0.0.5",
    };
    const result = profileFromFacts(withFqdn({ tags }), [], settings, network);
    expect(result.profile.parameters).toEqual({
      apiServerSubnet: ["10.1.0.0/28"],
      apiServerIp: ["20.50.1.10"],
      dnsServers: ["10.0.0.4", "10.0.0.5"],
    });
    expect(result.parameterOrigins).toEqual({
      apiServerSubnet: "network",
      apiServerIp: "tag",
      dnsServers: "tag",
    });
    expect(result.profile.apiServerIpFromFqdn).toBeUndefined();
  });

  it("a bad parameters tag is a BAD_TAG finding naming it, and none of its values is used", () => {
    const tags = { "aks-egress-guard/parameters": "apiServerIp=20.50.1.10;dnsServers=ten" };
    const result = profileFromFacts(withFqdn({ tags }), [], settings);
    expect(result.profile.parameters).toEqual({});
    expect(result.findings.map((f) => f.code)).toEqual(["BAD_TAG"]);
    expect(result.findings[0]?.message).toContain('bad value "ten" for parameter dnsServers');
    expect(result.findings[0]?.message).toContain("aks-egress-guard/parameters");
  });
});
