// From what ARM says about a cluster to what the drift engine needs: features, mode, policy, findings.
// Pure: the azure/ adapter reads the facts, this decides what they mean.
import {
  type Cloud,
  type Feature,
  featureOrder,
  normaliseRegion,
  type Parameter,
  type ParameterValues,
  parseFeatures,
  parseParameters,
} from "../catalog";
import { isGuardError } from "../errors";
import { type ClusterProfile, type Finding, MODES, type Mode } from "./types";

export const TAG_FEATURES = "aks-egress-guard/features";
export const TAG_MODE = "aks-egress-guard/mode";
export const TAG_FIREWALL_POLICY = "aks-egress-guard/firewall-policy";
/** Values only the cluster knows, overriding what the network says: `apiServerIp=20.1.2.3;dnsServers=10.0.0.4,10.0.0.5`. */
export const TAG_PARAMETERS = "aks-egress-guard/parameters";

/** The parts of a managedCluster that matter here, already narrowed from ARM JSON. */
export interface ClusterFacts {
  id: string;
  name: string;
  location: string;
  provisioningState?: string;
  privateCluster: boolean;
  /** The public API server's FQDN (`fqdn`); its address is resolved by the adapter when a rule needs it. */
  fqdn?: string;
  outboundType?: string;
  /** `apiServerAccessProfile.subnetId`: the API server's own subnet (API server VNet integration). */
  apiServerSubnetId?: string;
  agentPools: { name: string; vmSize?: string; osType?: string; vnetSubnetId?: string }[];
  /** Add-on name (lower-cased) → enabled. */
  addons: Record<string, boolean>;
  azureMonitorMetrics: boolean;
  defender: boolean;
  /** `azureMonitorProfile.appMonitoring.autoInstrumentation.enabled` (Application Insights). */
  appMonitoring?: boolean;
  /** `securityProfile.workloadIdentity.enabled` (the workload identity webhook). */
  workloadIdentity?: boolean;
  /** `serviceMeshProfile.mode` as ARM writes it (`Istio`, `Disabled`). */
  serviceMesh?: string;
  /** `ingressProfile.webAppRouting.enabled` (the application routing add-on). */
  webAppRouting?: boolean;
  /** `metricsProfile.costAnalysis.enabled` (the AKS cost analysis add-on). */
  costAnalysis?: boolean;
  tags: Record<string, string>;
}

export interface ProfileSettings {
  cloud: Cloud;
  /** Features that cannot be detected (e.g. ubuntu-updates), from configuration. */
  defaultFeatures: readonly Feature[];
}

/** What the network says about a cluster (azure/clusters.ts reads it with the node subnets). */
export interface ClusterNetwork {
  /**
   * The virtual networks the lists showed (`dhcpOptions.dnsServers` matters here), by lower-cased ID:
   * a node subnet's network is its ID without `/subnets/…`. A network not among them is not known.
   */
  virtualNetworks: Readonly<Record<string, { dnsServers: readonly string[] }>>;
  /** The prefixes of the cluster's API server subnet (API server VNet integration), when read. */
  apiServerSubnet?: readonly string[];
  /** The addresses the cluster's public `fqdn` resolved to, when it was resolved (see needsApiServerAddress). */
  apiServerAddresses?: readonly string[];
}

/** Where a parameter's value came from: the network (as read this pass) or the cluster's tag. */
export type ParameterOrigin = "network" | "tag";

/** Azure-provided DNS (the platform's virtual IP): reached without a firewall rule. */
export const AZURE_PROVIDED_DNS = "168.63.129.16";

/**
 * The custom DNS servers the cluster's nodes use: their node subnets' virtual networks'
 * `dhcpOptions.dnsServers`, in order, without duplicates or Azure-provided DNS. Empty when every
 * known network uses Azure-provided DNS (an empty list), or none is known. A value that is not an IP
 * address is left out and named in `invalid`: a rule never carries a malformed address.
 */
/** The virtual network a subnet belongs to: its ID without the trailing `/subnets/<name>`. */
export function virtualNetworkIdOf(subnetId: string): string {
  return subnetId.replace(/\/subnets\/[^/]+\/?$/i, "");
}

export function dnsServersOf(
  facts: Pick<ClusterFacts, "agentPools">,
  network: ClusterNetwork,
): { servers: string[]; invalid: string[] } {
  const servers: string[] = [];
  const invalid: string[] = [];
  for (const pool of facts.agentPools) {
    const networkId = pool.vnetSubnetId && virtualNetworkIdOf(pool.vnetSubnetId).toLowerCase();
    for (const raw of (networkId && network.virtualNetworks[networkId]?.dnsServers) || []) {
      const server = raw.trim();
      if (server === AZURE_PROVIDED_DNS || servers.includes(server) || invalid.includes(server)) continue;
      try {
        parseParameters([`dnsServers=${server}`]);
        servers.push(server);
      } catch (error) {
        if (!isGuardError(error)) throw error;
        invalid.push(server);
      }
    }
  }
  return { servers, invalid };
}

/** The values of `name` that parse (e.g. each prefix a valid CIDR); the rest are left out. */
function validValues(name: Parameter, raws: readonly string[]): string[] {
  const values: string[] = [];
  for (const raw of raws) {
    try {
      for (const v of parseParameters([`${name}=${raw}`])[name] ?? [])
        if (!values.includes(v)) values.push(v);
    } catch (error) {
      if (!isGuardError(error)) throw error;
    }
  }
  return values;
}

/**
 * Whether a rule needs the public API server's own address: only the pod-api-access rows name it
 * ("APIServerPublicIP"), and a private cluster has none. The tunnel rows keep the region's service
 * tag unless a person gave the address (see README: a resolved address can change in maintenance).
 * A `apiServerIp` in the parameters tag makes resolving needless.
 */
export function needsApiServerAddress(facts: ClusterFacts, features: readonly Feature[]): boolean {
  if (facts.privateCluster || facts.fqdn === undefined || !features.includes("pod-api-access")) return false;
  const tagged = tagParameters(facts);
  return "badTag" in tagged || tagged.values.apiServerIp === undefined;
}

/** The values of the tag aks-egress-guard/parameters (none without it), or why it is ignored. */
function tagParameters(facts: ClusterFacts): { values: ParameterValues } | { badTag: string } {
  const raw = tagValue(facts.tags, TAG_PARAMETERS);
  if (raw === undefined) return { values: {} };
  try {
    return {
      values: parseParameters(
        raw
          .split(";")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      ),
    };
  } catch (error) {
    if (!isGuardError(error)) throw error;
    return {
      badTag: `${facts.name}: tag ${TAG_PARAMETERS}="${raw}" ignored: ${error.message} Write name=value pairs separated by ";", e.g. apiServerIp=20.1.2.3;dnsServers=10.0.0.4,10.0.0.5.`,
    };
  }
}

/**
 * The features in effect: configured, detected, then the tag's changes. A bad tag is ignored, and
 * `badTag` says why (profileFromFacts reports it).
 */
export function featuresOf(
  facts: ClusterFacts,
  settings: Pick<ProfileSettings, "defaultFeatures">,
): { features: Feature[]; badTag?: string } {
  const features = featureOrder([...settings.defaultFeatures, ...detectFeatures(facts)]);
  const featureTag = tagValue(facts.tags, TAG_FEATURES);
  if (featureTag === undefined) return { features };
  try {
    return { features: applyFeatureTag(features, featureTag) };
  } catch (error) {
    if (!isGuardError(error)) throw error;
    return {
      features,
      badTag: `${facts.name}: tag ${TAG_FEATURES}="${featureTag}" ignored: ${error.message}`,
    };
  }
}

export interface ProfileResult {
  profile: ClusterProfile;
  /** Where each filled parameter came from (check --cluster prints it). */
  parameterOrigins: Partial<Record<Parameter, ParameterOrigin>>;
  /** The policy named by the cluster's tag, when valid. */
  firewallPolicyId?: string;
  findings: Finding[];
}

const GPU_SIZE = /^standard_n[cdv]/i;
const CHANGING = new Set([
  "creating",
  "updating",
  "upgrading",
  "scaling",
  "migrating",
  "starting",
  "stopping",
  "deleting",
]);
const POLICY_ID =
  /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.network\/firewallpolicies\/[^/]+$/i;

/**
 * Features the cluster itself shows: add-ons and profiles, pool OS and VM sizes. Not visible in a
 * managedCluster, so only by configuration or tag: ubuntu-updates, pod-api-access, cluster-extensions
 * (extensions are resources of their own).
 */
export function detectFeatures(facts: ClusterFacts): Feature[] {
  const features: Feature[] = [];
  // Container Insights (the omsagent add-on), managed Prometheus, Application Insights autoinstrumentation.
  if (facts.addons.omsagent === true || facts.azureMonitorMetrics || facts.appMonitoring === true)
    features.push("azure-monitor");
  if (facts.addons.azurepolicy === true) features.push("azure-policy");
  if (facts.addons.azurekeyvaultsecretsprovider === true) features.push("keyvault-secrets-provider");
  if (facts.defender) features.push("defender");
  if (facts.costAnalysis === true) features.push("cost-analysis");
  // The webhook, not the OIDC issuer alone: the issuer only publishes keys; pods sign in to Entra ID
  // with their federated token when workload identity is on (tag +workload-identity otherwise).
  if (facts.workloadIdentity === true) features.push("workload-identity");
  if (facts.serviceMesh?.toLowerCase() === "istio") features.push("istio");
  if (facts.webAppRouting === true) features.push("application-routing");
  if (facts.agentPools.some((p) => p.osType?.toLowerCase() === "windows")) features.push("windows");
  // N-series VM sizes are the GPU sizes (a heuristic: azure-notes §3).
  if (facts.agentPools.some((p) => GPU_SIZE.test(p.vmSize ?? ""))) features.push("gpu");
  return features;
}

function tagValue(tags: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(tags).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : tags[key];
}

/** "+gpu,-windows,ubuntu-updates": a sign-less name adds. */
function applyFeatureTag(features: Feature[], value: string): Feature[] {
  const result = new Set(features);
  for (const item of value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")) {
    const remove = item.startsWith("-");
    const [feature] = parseFeatures([item.replace(/^[+-]/, "")]);
    if (feature === undefined) continue;
    if (remove) result.delete(feature);
    else result.add(feature);
  }
  return featureOrder(result);
}

/**
 * `network`, when given, fills the parameters the network knows: `dnsServers` from the node subnets'
 * virtual networks (see dnsServersOf). Azure-provided DNS needs no rule, so then none is filled and
 * the catalog's custom-DNS entry stays unresolved, as before.
 */
export function profileFromFacts(
  facts: ClusterFacts,
  subnetCidrs: readonly string[],
  settings: ProfileSettings,
  network?: ClusterNetwork,
): ProfileResult {
  const findings: Finding[] = [];
  const finding = (code: string, severity: Finding["severity"], message: string) =>
    findings.push({ code, severity, message, clusterId: facts.id });

  if (facts.outboundType !== undefined && facts.outboundType.toLowerCase() !== "userdefinedrouting") {
    finding(
      "OUTBOUND_NOT_UDR",
      "warning",
      `${facts.name}: outboundType is ${facts.outboundType}, so its egress does not pass the firewall; rules are kept for it all the same.`,
    );
  }
  if (facts.provisioningState !== undefined && CHANGING.has(facts.provisioningState.toLowerCase())) {
    finding(
      "CLUSTER_CHANGING",
      "info",
      `${facts.name} is ${facts.provisioningState}; what it needs may change when that ends.`,
    );
  }

  const { features, badTag } = featuresOf(facts, settings);
  if (badTag !== undefined) finding("BAD_TAG", "warning", badTag);

  let mode: Mode | undefined;
  const modeTag = tagValue(facts.tags, TAG_MODE);
  if (modeTag !== undefined) {
    const m = MODES.find((x) => x === modeTag.trim().toLowerCase());
    if (m === undefined) {
      finding(
        "BAD_TAG",
        "warning",
        `${facts.name}: tag ${TAG_MODE}="${modeTag}" ignored: valid modes are ${MODES.join(", ")}.`,
      );
    } else {
      mode = m;
    }
  }

  let firewallPolicyId: string | undefined;
  const policyTag = tagValue(facts.tags, TAG_FIREWALL_POLICY);
  if (policyTag !== undefined) {
    if (POLICY_ID.test(policyTag.trim())) firewallPolicyId = policyTag.trim();
    else
      finding(
        "BAD_TAG",
        "warning",
        `${facts.name}: tag ${TAG_FIREWALL_POLICY}="${policyTag}" ignored: expected a firewall policy resource ID.`,
      );
  }

  const parameters: ParameterValues = {};
  const parameterOrigins: Partial<Record<Parameter, ParameterOrigin>> = {};
  const fill = (name: Parameter, values: readonly string[], origin: ParameterOrigin) => {
    parameters[name] = values;
    parameterOrigins[name] = origin;
  };
  if (network !== undefined) {
    const dns = dnsServersOf(facts, network);
    if (dns.servers.length > 0) fill("dnsServers", dns.servers, "network");
    if (dns.invalid.length > 0)
      finding(
        "BAD_DNS_SERVER",
        "warning",
        `${facts.name}: its virtual network names DNS server(s) ${dns.invalid.join(", ")}, which are not IP addresses; no rule is written for them.`,
      );
    const subnet = validValues("apiServerSubnet", network.apiServerSubnet ?? []);
    if (subnet.length > 0) fill("apiServerSubnet", subnet, "network");
    // Only where a rule needs the address itself (see needsApiServerAddress); never for a private cluster.
    const addresses = validValues("apiServerIp", network.apiServerAddresses ?? []);
    if (addresses.length > 0 && needsApiServerAddress(facts, features))
      fill("apiServerIp", addresses, "network");
  }
  const tagged = tagParameters(facts);
  if ("badTag" in tagged) finding("BAD_TAG", "warning", tagged.badTag);
  else
    for (const [name, values] of Object.entries(tagged.values) as [Parameter, readonly string[]][])
      fill(name, values, "tag");

  // An unknown region is passed through as written: the drift engine then keeps the cluster's
  // existing collections and reports UNKNOWN_REGION, instead of treating them as stale.
  let region = facts.location.toLowerCase();
  try {
    region = normaliseRegion(settings.cloud, facts.location);
  } catch (error) {
    if (!isGuardError(error)) throw error;
  }

  const profile: ClusterProfile = {
    id: facts.id,
    name: facts.name,
    cloud: settings.cloud,
    region,
    features: features.filter((f) => f !== "base"),
    parameters,
    ...(parameterOrigins.apiServerIp === "network" ? { apiServerIpFromFqdn: true } : {}),
    privateCluster: facts.privateCluster,
    nodeSubnets: [...new Set(subnetCidrs)].sort(),
    ...(mode ? { mode } : {}),
  };
  return { profile, parameterOrigins, findings, ...(firewallPolicyId ? { firewallPolicyId } : {}) };
}
