// What adopting another catalog version means for each cluster: the requirements it gains and loses,
// each traced to the entry of Microsoft's page it comes from (section and source line), so a person
// approving the adoption sees why every destination opens or closes. Pure: catalogs and profiles in.
import {
  type Catalog,
  type CatalogEntry,
  describePorts,
  entryApplies,
  featureOrder,
  fillTemplate,
} from "../catalog";
import type { ClusterProfile, ImpactGroup, ImpactItem } from "./types";

export type { ImpactGroup, ImpactItem };

export interface CatalogImpact {
  from: string;
  to: string;
  clusterCount: number;
  /** Clusters with at least one gain or loss. */
  clustersAffected: number;
  groups: ImpactGroup[];
}

const NAMES_LISTED = 10;

function destinationOf(entry: CatalogEntry, cluster: ClusterProfile): string {
  const d = entry.destination;
  switch (d.kind) {
    case "fqdn": {
      const host = fillTemplate(d.host, cluster.region, cluster.parameters);
      return typeof host === "string" ? host : d.host;
    }
    case "serviceTag":
      return d.tag.replace("{region}", cluster.region);
    case "apiServer":
      return "the API server";
    case "parameter":
      return `<${d.parameter}>`;
    case "unspecified":
      return "(no destination named)";
  }
}

function sourceOf(catalog: Catalog, entry: CatalogEntry): string {
  // The table's own heading reads better than the section's anchor; the anchor when there is none.
  const where = entry.source.table ?? entry.source.section;
  const line = entry.source.line !== undefined ? `, line ${entry.source.line}` : "";
  return `${catalog.version}: ${where}${line}`;
}

/** A cluster's requirements under one catalog, keyed by feature, destination and ports. */
function requirementsOf(catalog: Catalog, cluster: ClusterProfile): Map<string, ImpactItem> {
  const items = new Map<string, ImpactItem>();
  const request = {
    cloud: cluster.cloud,
    region: cluster.region,
    features: cluster.features,
    parameters: cluster.parameters,
    privateCluster: cluster.privateCluster,
  };
  for (const entry of catalog.entries) {
    if (!entryApplies(entry, request)) continue;
    const item: ImpactItem = {
      feature: entry.feature,
      destination: destinationOf(entry, cluster),
      ports: describePorts(entry.ports),
      source: sourceOf(catalog, entry),
    };
    const key = `${item.feature}|${item.destination.toLowerCase()}|${item.ports}`;
    if (!items.has(key)) items.set(key, item);
  }
  return items;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const itemOrder = (a: ImpactItem, b: ImpactItem) =>
  byText(`${a.feature}|${a.destination}|${a.ports}`, `${b.feature}|${b.destination}|${b.ports}`);

export function catalogImpact(
  clusters: readonly ClusterProfile[],
  from: Catalog,
  to: Catalog,
): CatalogImpact {
  const groups = new Map<string, ImpactGroup>();
  let affected = 0;
  for (const cluster of [...clusters].sort((a, b) => byText(a.name, b.name))) {
    const before = requirementsOf(from, cluster);
    const after = requirementsOf(to, cluster);
    const gains = [...after].filter(([k]) => !before.has(k)).map(([, v]) => v);
    const losses = [...before].filter(([k]) => !after.has(k)).map(([, v]) => v);
    if (gains.length === 0 && losses.length === 0) continue;
    affected += 1;
    gains.sort(itemOrder);
    losses.sort(itemOrder);
    const key = JSON.stringify([cluster.region, gains, losses]);
    const features = featureOrder(["base", ...cluster.features]);
    let group = groups.get(key);
    if (group === undefined) {
      group = { region: cluster.region, features, clusterCount: 0, clusters: [], gains, losses };
      groups.set(key, group);
    }
    group.clusterCount += 1;
    if (group.clusters.length < NAMES_LISTED) group.clusters.push(cluster.name);
  }
  return {
    from: from.version,
    to: to.version,
    clusterCount: clusters.length,
    clustersAffected: affected,
    groups: [...groups.values()],
  };
}

/** The impact as the approval page and plan text show it. */
export function formatCatalogImpact(impact: CatalogImpact): string {
  return [
    `Catalog ${impact.from} -> ${impact.to}: ${impact.clustersAffected} of ${impact.clusterCount} cluster(s) affected.`,
    ...impactGroupLines(impact.groups, "was "),
  ].join("\n");
}

/**
 * Clusters with the same gains and losses, as one block each: region, features and the first
 * names (with the exact count), then `+` and `-` lines. Shared by the catalog impact and the plan's
 * per-cluster section. `was` prefixes the source of a loss ("was 2023-06: …").
 */
export function impactGroupLines(groups: readonly ImpactGroup[], was = ""): string[] {
  const lines: string[] = [];
  const from = (item: ImpactItem, prefix: string) =>
    item.source === "" ? "" : ` <- ${prefix}${item.source}`;
  const feature = (item: ImpactItem) => (item.feature === "" ? "" : ` (${item.feature})`);
  for (const g of groups) {
    const more = g.clusterCount > g.clusters.length ? ` and ${g.clusterCount - g.clusters.length} more` : "";
    lines.push("", `${g.region} [${g.features.join(", ")}]: ${g.clusters.join(", ")}${more}`);
    for (const item of g.gains)
      lines.push(`  + ${item.destination} ${item.ports}${feature(item)}${from(item, "")}`);
    for (const item of g.losses)
      lines.push(`  - ${item.destination} ${item.ports}${feature(item)}${from(item, was)}`);
  }
  return lines;
}
