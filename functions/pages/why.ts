// Why a destination is in the plan: the entries of the catalog (Microsoft's page) that ask for it, for
// a cluster of that cloud and region with those features. The plan keeps features per destination;
// this finds the table and line of the page, so a reviewer can check the rule against the source.
import { type Catalog, type CatalogEntry, type Cloud, describePorts, fillTemplate } from "../../catalog";

export interface Reason {
  feature: string;
  /** The table's heading on the page, or the section's anchor where the section has one table. */
  where: string;
  line?: number;
  purpose: string;
}

function destinationMatches(entry: CatalogEntry, region: string, destination: string): boolean {
  const d = entry.destination;
  switch (d.kind) {
    case "fqdn": {
      const host = fillTemplate(d.host, region, {});
      return typeof host === "string" && host.toLowerCase() === destination;
    }
    case "serviceTag":
      return d.tag.replace("{region}", region).toLowerCase() === destination;
    case "apiServer":
      // Rendered to the API server's address when known, else the region's AzureCloud tag.
      return destination === `azurecloud.${region}` || /^[0-9a-f.:/]+$/.test(destination);
    case "parameter":
      // A value the operator gave (DNS servers, the API server's address): an address.
      return /^[0-9a-f.:/]+$/.test(destination);
    case "unspecified":
      return false;
  }
}

/**
 * The catalog entries behind one destination on one port ("Https:443"), for these features. Entries
 * on the same destination but other ports are the fallback (the port may come from another row).
 */
export function reasonsFor(
  catalog: Catalog,
  cloud: Cloud,
  region: string,
  item: { feature: string; destination: string; ports: string },
): Reason[] {
  const features = item.feature === "" ? [] : item.feature.split(",").map((f) => f.trim());
  const destination = item.destination.toLowerCase();
  const port = item.ports.toLowerCase();
  const candidates = catalog.entries.filter(
    (e) =>
      e.alternative === undefined &&
      e.clouds.includes(cloud) &&
      (features.length === 0 || features.includes(e.feature)) &&
      destinationMatches(e, region, destination),
  );
  const onPort = candidates.filter((e) =>
    describePorts(e.ports)
      .toLowerCase()
      .split(", ")
      .some((p) => p === port),
  );
  const seen = new Set<string>();
  const reasons: Reason[] = [];
  for (const e of onPort.length > 0 ? onPort : candidates) {
    const where = e.source.table ?? e.source.section;
    const key = `${e.feature}|${where}|${e.source.line ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    reasons.push({
      feature: e.feature,
      where,
      ...(e.source.line !== undefined ? { line: e.source.line } : {}),
      purpose: e.purpose,
    });
  }
  return reasons;
}

/** "catalog 2026-06, Microsoft's page of 2026-06-18": where every reason on a page comes from. */
export function catalogOrigin(catalog: Catalog): string {
  return `catalog ${catalog.version}, from Microsoft's page of ${catalog.document.date}`;
}
