// What changed between two catalog versions, requirement by requirement, per cloud.
// A requirement is identified by (cloud, feature, destination); its ports and required flag can change.
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
}

function requirements(catalog: Catalog, clouds: readonly Cloud[]): Map<string, Requirement> {
  const map = new Map<string, Requirement>();
  for (const entry of catalog.entries) {
    for (const cloud of entry.clouds) {
      if (!clouds.includes(cloud)) continue;
      const destination = destinationKey(entry);
      const key = `${cloud}|${entry.feature}|${destination}`;
      const requirement = map.get(key) ?? {
        cloud,
        feature: entry.feature,
        destination,
        ports: new Set(),
        required: false,
      };
      for (const p of entry.ports) requirement.ports.add(`${p.protocol}:${p.port}`);
      requirement.required ||= entry.required;
      map.set(key, requirement);
    }
  }
  return map;
}

const sorted = (ports: Set<string>) => [...ports].sort();

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
    if (portsChanged || old.required !== now.required) {
      const detail =
        old.required !== now.required ? (now.required ? "now required" : "now optional") : undefined;
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
      changes.push({
        change: "added",
        cloud: now.cloud,
        feature: now.feature,
        destination: now.destination,
        after: sorted(now.ports),
      });
    }
  }
  const rank = (c: RequirementChange) =>
    `${CLOUDS.indexOf(c.cloud)}|${String(FEATURES.indexOf(c.feature)).padStart(2, "0")}|${c.destination}|${c.change}`;
  changes.sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0));
  return { from: from.version, to: to.version, clouds: [...clouds], changes };
}
