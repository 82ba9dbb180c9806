// The managed rule collection group as the clusters need it (DESIGN §3 "Ownership", "Sources",
// "Translation"). Pure: the same clusters, group as read and settings give byte-identical output.

import { loadCatalog, normaliseRegion, renderRules } from "../catalog";
import { isGuardError } from "../errors";
import { byText } from "./canonical";
import { type CollectionKind, clusterKey, collectionName, ownedDescription } from "./naming";
import { allocatePriorities } from "./priorities";
import type {
  ApplicationRuleBody,
  ClusterProfile,
  Finding,
  ManagedGroupSettings,
  NetworkRuleBody,
  RuleBody,
  RuleCollection,
  RuleCollectionGroup,
} from "./types";

export interface DesiredGroupOptions {
  /**
   * The policy's DNS proxy setting. Off, FQDN network rules are left out (the service rejects them)
   * and reported. Defaults to on, which leaves them in.
   */
  dnsProxyEnabled?: boolean;
}

export interface DesiredGroup {
  group: RuleCollectionGroup;
  findings: Finding[];
}

/** One cluster's rules, before priorities are known. */
interface Planned {
  key: string;
  /** Priorities of the cluster's collections in the group as read. */
  existing: Partial<Record<CollectionKind, number>>;
  collections: Partial<Record<CollectionKind, { name: string; rules: RuleBody[] }>>;
}

/** The rules' sources: node subnet CIDRs, deduplicated and sorted so that their order is no drift. */
export function sourcesOf(cluster: ClusterProfile): string[] {
  const cidrs = cluster.nodeSubnets.map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
  return [...new Set(cidrs)].sort(byText);
}

export function desiredGroup(
  clusters: readonly ClusterProfile[],
  current: RuleCollectionGroup | undefined,
  settings: ManagedGroupSettings,
  options: DesiredGroupOptions = {},
): DesiredGroup {
  const catalog = settings.catalog ?? loadCatalog(settings.catalogVersion);
  const dnsProxyEnabled = options.dnsProxyEnabled ?? true;
  const findings: Finding[] = [];
  const currentByName = new Map((current?.ruleCollections ?? []).map((c) => [c.name.toLowerCase(), c]));
  const existingOf = (cluster: ClusterProfile) =>
    (["app", "net"] as const)
      .map((kind) => currentByName.get(collectionName(cluster, kind)))
      .filter((c): c is RuleCollection => c !== undefined);

  // A cluster whose rules cannot be worked out keeps what it has: removing its egress would break it.
  const kept: RuleCollection[] = [];
  const planned: Planned[] = [];

  for (const cluster of uniqueClusters(clusters, findings)) {
    const key = clusterKey(cluster.id);
    const region = validRegion(cluster);
    if (typeof region !== "string") {
      findings.push({ code: "UNKNOWN_REGION", severity: "error", clusterId: key, message: region.message });
      kept.push(...existingOf(cluster).map((c) => structuredClone(c)));
      continue;
    }

    let sources = sourcesOf(cluster);
    if (sources.length === 0) {
      if (!settings.allowAnySource) {
        const existing = existingOf(cluster);
        findings.push({
          code: "NO_NODE_SUBNETS",
          severity: "error",
          clusterId: key,
          message: `no node subnet could be read for cluster ${cluster.name}, so its rules have no source; ${
            existing.length > 0
              ? `its collections ${existing.map((c) => c.name).join(", ")} are kept as they are`
              : "no rules are written for it"
          }. Rules are never opened to "*" unless the operator allows any source.`,
        });
        kept.push(...existing.map((c) => structuredClone(c)));
        continue;
      }
      sources = ["*"];
      findings.push({
        code: "ANY_SOURCE",
        severity: "warning",
        clusterId: key,
        message: `no node subnet could be read for cluster ${cluster.name}; its rules use source "*" because the operator allows any source. Every host behind the firewall gets this cluster's egress.`,
      });
    }

    const rules = renderRules({
      catalog,
      cloud: cluster.cloud,
      region,
      features: cluster.features,
      parameters: cluster.parameters,
      privateCluster: cluster.privateCluster,
    });
    for (const item of rules.unresolved) {
      findings.push({
        code: "UNRESOLVED_REQUIREMENT",
        severity: "info",
        clusterId: key,
        message: `${item.feature} / ${item.entry}: ${item.reason}`,
      });
    }

    const app: ApplicationRuleBody[] = rules.applicationRules.map((rule) => ({
      ruleType: "ApplicationRule",
      name: rule.name,
      description: ownedDescription(cluster.id, rule.description),
      sourceAddresses: sources,
      protocols: rule.protocols.map((p) => ({ protocolType: p.protocolType, port: p.port })),
      targetFqdns: [...rule.targetFqdns],
    }));
    const net: NetworkRuleBody[] = [];
    const leftOut: string[] = [];
    for (const rule of rules.networkRules) {
      if (!dnsProxyEnabled && rule.destinationFqdns.length > 0) {
        leftOut.push(
          `${rule.name} (${rule.destinationFqdns.join(", ")} ${rule.ipProtocols.join("/")}:${rule.destinationPorts.join(",")})`,
        );
        continue;
      }
      net.push({
        ruleType: "NetworkRule",
        name: rule.name,
        description: ownedDescription(cluster.id, rule.description),
        ipProtocols: [...rule.ipProtocols],
        sourceAddresses: sources,
        ...(rule.destinationAddresses.length > 0
          ? { destinationAddresses: [...rule.destinationAddresses] }
          : {}),
        ...(rule.destinationFqdns.length > 0 ? { destinationFqdns: [...rule.destinationFqdns] } : {}),
        destinationPorts: [...rule.destinationPorts],
      });
    }
    if (leftOut.length > 0) {
      findings.push({
        code: "DNS_PROXY_OFF",
        severity: "error",
        clusterId: key,
        message: `DNS proxy is off on the firewall policy, and the service rejects network rules to FQDNs without it: left out of the managed group: ${leftOut.join("; ")}. Enable DNS proxy on the policy to have them written.`,
      });
    }

    const collections: Planned["collections"] = {};
    if (app.length > 0) collections.app = { name: collectionName(cluster, "app"), rules: sortRules(app) };
    if (net.length > 0) collections.net = { name: collectionName(cluster, "net"), rules: sortRules(net) };
    const existing: Planned["existing"] = {};
    for (const kind of ["app", "net"] as const) {
      const found = currentByName.get(collectionName(cluster, kind));
      if (found?.priority !== undefined) existing[kind] = found.priority;
    }
    planned.push({ key, existing, collections });
  }

  const priorities = allocatePriorities(
    planned.map((p) => ({ clusterKey: p.key, kinds: kindsOf(p), existing: p.existing })),
    kept.flatMap((c) => (c.priority === undefined ? [] : [c.priority])),
  );

  const ruleCollections: RuleCollection[] = [...kept];
  for (const p of planned) {
    for (const kind of kindsOf(p)) {
      const collection = p.collections[kind];
      const priority = priorities.get(p.key)?.[kind];
      if (collection === undefined || priority === undefined) continue;
      ruleCollections.push({
        ruleCollectionType: "FirewallPolicyFilterRuleCollection",
        name: collection.name,
        priority,
        action: { type: "Allow" },
        rules: collection.rules,
      });
    }
  }
  // A kept collection without a priority (Azure allows it) sorts last.
  const order = (c: RuleCollection) => c.priority ?? Number.MAX_SAFE_INTEGER;
  ruleCollections.sort((a, b) => order(a) - order(b) || byText(a.name, b.name));

  return {
    group: { name: settings.groupName, priority: settings.groupPriority, ruleCollections },
    findings,
  };
}

function kindsOf(p: Planned): CollectionKind[] {
  return (["app", "net"] as const).filter((kind) => p.collections[kind] !== undefined);
}

function sortRules<T extends RuleBody>(rules: T[]): T[] {
  return [...rules].sort((a, b) => byText(a.name, b.name));
}

/** Sorted by lower-cased ID; a cluster listed twice (IDs differ only in casing) counts once. */
function uniqueClusters(clusters: readonly ClusterProfile[], findings: Finding[]): ClusterProfile[] {
  const seen = new Set<string>();
  const unique: ClusterProfile[] = [];
  for (const cluster of [...clusters].sort((a, b) => byText(clusterKey(a.id), clusterKey(b.id)))) {
    const key = clusterKey(cluster.id);
    if (seen.has(key)) {
      findings.push({
        code: "DUPLICATE_CLUSTER",
        severity: "warning",
        clusterId: key,
        message: `cluster ${key} is listed more than once; only its first profile is used.`,
      });
      continue;
    }
    seen.add(key);
    unique.push(cluster);
  }
  return unique;
}

/** A region the catalog does not know would put a service tag the firewall rejects into the one PUT. */
function validRegion(cluster: ClusterProfile): string | Error {
  try {
    return normaliseRegion(cluster.cloud, cluster.region);
  } catch (error) {
    if (isGuardError(error)) {
      // The catalog's message ends with every valid region: too long for a plan; the hint before it is enough.
      const hint = error.message.split(" Valid regions:")[0] ?? error.message;
      return new Error(`${hint} The rules of cluster ${cluster.name} are left as they are.`);
    }
    throw error;
  }
}
