// What changed between two catalog versions, requirement by requirement, per cloud.
// A requirement is identified by (cloud, feature, destination); its ports, its required flag, whether
// it is only an alternative, whether private clusters need it and the regions it is for can change.
import { type Catalog, type CatalogEntry, CLOUDS, type Cloud, FEATURES, type Feature } from "./schema";

export interface RequirementChange {
  change: "added" | "removed" | "changed";
  cloud: Cloud;
  feature: Feature;
  destination: string;
  /** Ports in the older version (absent for added requirements). */
  before?: string[];
  /** Ports in the newer version (absent for removed requirements). */
  after?: string[];
  detail?: string;
}

export interface CatalogDiff {
  from: string;
  to: string;
  clouds: Cloud[];
  changes: RequirementChange[];
}

export function destinationKey(entry: CatalogEntry): string {
  const d = entry.destination;
  switch (d.kind) {
    case "fqdn":
      return d.host;
    case "serviceTag":
      return d.tag;
    case "parameter":
      return `<${d.parameter}>`;
    case "apiServer":
      return "<API server>";
    case "unspecified":
      return "<no destination named>";
  }
}

interface Requirement {
  cloud: Cloud;
  feature: Feature;
  destination: string;
  ports: Set<string>;
  required: boolean;
  /** Every entry of it is an alternative, kept and never rendered. */
  alternative: boolean;
  /** Every entry of it says private clusters do not need it. */
  notForPrivateClusters: boolean;
  /** The regions it is listed for; undefined when any entry applies everywhere. */
  regions: Set<string> | undefined;
}

function requirements(catalog: Catalog, clouds: readonly Cloud[]): Map<string, Requirement> {
  const map = new Map<string, Requirement>();
  for (const entry of catalog.entries) {
    for (const cloud of entry.clouds) {
      if (!clouds.includes(cloud)) continue;
      const destination = destinationKey(entry);
      const key = `${cloud}|${entry.feature}|${destination}`;
      const existing = map.get(key);
      const requirement: Requirement = existing ?? {
        cloud,
        feature: entry.feature,
        destination,
        ports: new Set(),
        required: false,
        alternative: true,
        notForPrivateClusters: true,
        regions: new Set(),
      };
      for (const p of entry.ports) requirement.ports.add(`${p.protocol}:${p.port}`);
      requirement.required ||= entry.required;
      requirement.alternative &&= entry.alternative !== undefined;
      requirement.notForPrivateClusters &&= entry.notForPrivateClusters === true;
      if (entry.regions === undefined) requirement.regions = undefined;
      else for (const r of entry.regions) requirement.regions?.add(r);
      map.set(key, requirement);
    }
  }
  return map;
}

const sorted = (ports: Set<string>) => [...ports].sort();

/** What a requirement is beyond its ports, in words: for added ones, and for what changed. */
function traits(r: Requirement): string[] {
  return [
    ...(r.required ? [] : ["optional"]),
    ...(r.alternative ? ["an alternative, not rendered"] : []),
    ...(r.notForPrivateClusters ? ["not for private clusters"] : []),
    ...(r.regions !== undefined ? [`only in ${sorted(r.regions).join(", ")}`] : []),
  ];
}

function changesOf(old: Requirement, now: Requirement): string[] {
  const details: string[] = [];
  if (old.required !== now.required) details.push(now.required ? "now required" : "now optional");
  if (old.alternative !== now.alternative)
    details.push(
      now.alternative ? "now an alternative, not rendered" : "now rendered, no longer an alternative",
    );
  if (old.notForPrivateClusters !== now.notForPrivateClusters)
    details.push(now.notForPrivateClusters ? "now not for private clusters" : "now for private clusters too");
  const regions = (r: Requirement) => (r.regions === undefined ? "" : sorted(r.regions).join());
  if (regions(old) !== regions(now))
    details.push(
      now.regions === undefined ? "now in every region" : `now only in ${sorted(now.regions).join(", ")}`,
    );
  return details;
}

export function diffCatalogs(from: Catalog, to: Catalog, clouds: readonly Cloud[] = CLOUDS): CatalogDiff {
  const before = requirements(from, clouds);
  const after = requirements(to, clouds);
  const changes: RequirementChange[] = [];
  for (const [key, old] of before) {
    const now = after.get(key);
    const base = { cloud: old.cloud, feature: old.feature, destination: old.destination };
    if (now === undefined) {
      changes.push({ change: "removed", ...base, before: sorted(old.ports) });
      continue;
    }
    const portsChanged = sorted(old.ports).join() !== sorted(now.ports).join();
    const details = changesOf(old, now);
    if (portsChanged || details.length > 0) {
      const detail = details.length > 0 ? details.join("; ") : undefined;
      changes.push({
        change: "changed",
        ...base,
        before: sorted(old.ports),
        after: sorted(now.ports),
        ...(detail ? { detail } : {}),
      });
    }
  }
  for (const [key, now] of after) {
    if (!before.has(key)) {
      const detail = traits(now).join("; ");
      changes.push({
        change: "added",
        cloud: now.cloud,
        feature: now.feature,
        destination: now.destination,
        after: sorted(now.ports),
        ...(detail !== "" ? { detail } : {}),
      });
    }
  }
  const rank = (c: RequirementChange) =>
    `${CLOUDS.indexOf(c.cloud)}|${String(FEATURES.indexOf(c.feature)).padStart(2, "0")}|${c.destination}|${c.change}`;
  changes.sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0));
  return { from: from.version, to: to.version, clouds: [...clouds], changes };
}
