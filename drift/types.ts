// The drift room's contract: what the adapters hand in (clusters, the firewall policy as read) and
// what comes out (a plan). Plain JSON both ways. Rule shapes are those of @azure/arm-network's
// models (the SDK flattens ARM's `properties` envelope), so adapters pass them through unchanged.
import type { Catalog, Cloud, Feature, ParameterValues } from "../catalog";

export const MODES = ["audit", "auto", "approve"] as const;
export type Mode = (typeof MODES)[number];

/** Everything the drift engine needs to know about one AKS cluster (read by azure/, pure data). */
export interface ClusterProfile {
  /** ARM resource ID as read; compared case-insensitively everywhere. */
  id: string;
  name: string;
  cloud: Cloud;
  /** Normalised region name, e.g. "westeurope". */
  region: string;
  /** Optional features in effect (detected, plus configuration, plus tag overrides). */
  features: Feature[];
  /** Cluster-known parameters, e.g. apiServerIp when resolved. */
  parameters: ParameterValues;
  /**
   * `parameters.apiServerIp` was resolved from the cluster's FQDN, not given by a person: it serves the
   * rows that name the API server's own address, while the tunnel rows keep the region's service tag,
   * which survives the address changing in maintenance.
   */
  apiServerIpFromFqdn?: boolean;
  privateCluster: boolean;
  /** CIDRs of the subnets of every agent pool; the rules' sources. Empty when none could be read. */
  nodeSubnets: string[];
  /** Per-cluster override of the remediation mode (tag aks-egress-guard/mode), validated. */
  mode?: Mode;
}

export interface ApplicationRuleProtocol {
  protocolType: "Http" | "Https" | "Mssql";
  port: number;
}

export interface ApplicationRuleBody {
  ruleType: "ApplicationRule";
  name: string;
  description?: string;
  sourceAddresses?: string[];
  sourceIpGroups?: string[];
  protocols?: ApplicationRuleProtocol[];
  targetFqdns?: string[];
  targetUrls?: string[];
  fqdnTags?: string[];
  webCategories?: string[];
  terminateTLS?: boolean;
}

export interface NetworkRuleBody {
  ruleType: "NetworkRule";
  name: string;
  description?: string;
  ipProtocols?: ("TCP" | "UDP" | "ICMP" | "Any")[];
  sourceAddresses?: string[];
  sourceIpGroups?: string[];
  destinationAddresses?: string[];
  destinationIpGroups?: string[];
  destinationFqdns?: string[];
  destinationPorts?: string[];
}

/** NAT rules and anything else the service may return; never produced by this app. */
export interface OtherRuleBody {
  ruleType: string;
  name: string;
  description?: string;
  [key: string]: unknown;
}

export type RuleBody = ApplicationRuleBody | NetworkRuleBody | OtherRuleBody;

export interface RuleCollection {
  ruleCollectionType: "FirewallPolicyFilterRuleCollection" | "FirewallPolicyNatRuleCollection" | string;
  name: string;
  /**
   * Optional in Azure's REST spec (FirewallPolicyRuleCollection), so a foreign collection may lack it;
   * the app's own collections always carry one. Readers order a missing priority last in its group.
   */
  priority?: number;
  action?: { type: "Allow" | "Deny" | "DNAT" | string };
  rules?: RuleBody[];
}

export interface RuleCollectionGroup {
  /** ARM ID, present when read from Azure. */
  id?: string;
  name: string;
  priority: number;
  ruleCollections: RuleCollection[];
  etag?: string;
  provisioningState?: string;
}

/** The firewall policy as read: its DNS proxy setting and every group, foreign ones included. */
export interface PolicySnapshot {
  id: string;
  dnsProxyEnabled: boolean;
  groups: RuleCollectionGroup[];
}

export interface ManagedGroupSettings {
  /** Name of the one group the app owns on each policy (default "aks-egress-guard"). */
  groupName: string;
  /** Priority of that group (100–65000). */
  groupPriority: number;
  catalogVersion: string;
  /**
   * The catalog itself, when it is not a shipped version: one imported from Microsoft's page that a
   * person is asked to adopt (or adopted). `catalogVersion` is then its version id, for messages.
   */
  catalog?: Catalog;
  /** Operator explicitly allowed `*` as source when a cluster's subnets cannot be read. */
  allowAnySource: boolean;
}

export type FindingSeverity = "info" | "warning" | "error";

export interface Finding {
  /** Stable code, e.g. SHADOWED_BY_DENY, DNS_PROXY_OFF, NO_NODE_SUBNETS, OUTBOUND_NOT_UDR. */
  code: string;
  severity: FindingSeverity;
  message: string;
  clusterId?: string;
  /** Where it was seen, e.g. "groupName/collectionName/ruleName". */
  location?: string;
}

export type ChangeKind = "add" | "remove" | "modify";

/** One line of the human-readable change list (`+`, `-`, `~`, like terraform plan). */
export interface RuleChange {
  kind: ChangeKind;
  collection: string;
  rule: string;
  /** Cluster the collection belongs to, when known. */
  clusterId?: string;
  /** Why (e.g. "foreign rule inside the managed group", "cluster no longer on this policy"). */
  reason?: string;
  /** For modify: field-level differences, e.g. ["destinationPorts: 443 -> 443,9000"]. */
  fields?: string[];
}

export interface PlanRisk {
  added: number;
  removed: number;
  changed: number;
  /** Rules in the managed group as read (0 when it does not exist). */
  managedRulesBefore: number;
  /** removed / managedRulesBefore (0 when nothing was there). */
  removedShare: number;
}

export interface Plan {
  policyId: string;
  groupName: string;
  /** "none": no drift, no write. "put": write `body`. "delete" is never produced (an empty group is PUT). */
  action: "none" | "put";
  /** The whole new group (what the single PUT sends); present when action is "put". */
  body?: RuleCollectionGroup;
  changes: RuleChange[];
  risk: PlanRisk;
  findings: Finding[];
  /** sha256 of the canonical desired group (what the write leaves). */
  hash: string;
  /** Content hash of the managed group as read ("absent" when there is none). */
  baseHash: string;
  /** The managed group's etag as read (sent as If-Match). */
  baseEtag?: string;
  /** sha256 over baseHash and hash: decisions and approvals bind to this one exact change. */
  changeHash: string;
  /** What each served cluster gains and loses, clusters with identical changes together. */
  clusterChanges: ClusterChanges;
  /** Lower-cased IDs of the served clusters that gain or lose anything (all of them, sorted). */
  affectedClusters: string[];
  /** Present when the group as read is in the per-cluster layout and this plan migrates it. */
  migration?: LayoutMigration;
}

/** One thing a cluster gains or loses: where to, on which ports, and why (feature, page entry). */
export interface ImpactItem {
  feature: string;
  destination: string;
  ports: string;
  /** Where the requirement comes from (a catalog's page and line), when that is known; else "". */
  source: string;
}

/** Clusters that gain and lose the same things (same region and features). */
export interface ImpactGroup {
  region: string;
  features: string[];
  clusterCount: number;
  /** Names of the first few clusters; clusterCount is exact. */
  clusters: string[];
  gains: ImpactItem[];
  losses: ImpactItem[];
}

/** What a plan changes for each served cluster: what its node subnets may reach before and after. */
export interface ClusterChanges {
  clusterCount: number;
  /** Clusters with at least one gain or loss. */
  clustersAffected: number;
  groups: ImpactGroup[];
}

/** The managed group is still in the per-cluster layout: this write moves it to the shared one. */
export interface LayoutMigration {
  /** Per-cluster collections (their rules name an owner cluster) in the group as read. */
  collections: number;
  /** Rules the shared layout writes instead. */
  rules: number;
}
