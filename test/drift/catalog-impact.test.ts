// What adopting another catalog means per cluster, traced to the page line each requirement comes
// from: real shipped versions (2025-02 and 2026-06, both built from Microsoft's published page).
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../catalog";
import { catalogImpact, formatCatalogImpact } from "../../drift/catalog-impact";
import { cluster } from "./fixtures";

const from = loadCatalog("2025-02");
const to = loadCatalog("2026-06");

describe("catalogImpact", () => {
  it("lists what each cluster gains, with the page section and line it comes from", () => {
    const impact = catalogImpact(
      [cluster("aks-mon", { features: ["azure-monitor"] }), cluster("aks-plain")],
      from,
      to,
    );
    expect(impact).toMatchObject({ from: "2025-02", to: "2026-06", clusterCount: 2, clustersAffected: 1 });
    expect(impact.groups).toHaveLength(1);
    const group = impact.groups[0];
    expect(group?.clusters).toEqual(["aks-mon"]);
    expect(group?.losses).toEqual([]);
    const gain = group?.gains.find((g) => g.destination === "*.in.applicationinsights.azure.com");
    expect(gain).toMatchObject({ feature: "azure-monitor", ports: "HTTPS:443" });
    // The line is the 2026-06 page's own: the entry's source as the importer recorded it.
    const entry = to.entries.find(
      (e) => e.destination.kind === "fqdn" && e.destination.host === "*.in.applicationinsights.azure.com",
    );
    expect(entry?.source.line).toBeGreaterThan(0);
    expect(gain?.source).toContain(`2026-06: ${entry?.source.table ?? entry?.source.section}`);
    expect(gain?.source).toContain(`line ${entry?.source.line}`);
  });

  it("groups clusters with the same changes and names only the first few", () => {
    const clusters = Array.from({ length: 14 }, (_, i) =>
      cluster(`aks-${String(i).padStart(2, "0")}`, { features: ["defender"] }),
    );
    const impact = catalogImpact(clusters, from, to);
    expect(impact.clustersAffected).toBe(14);
    expect(impact.groups).toHaveLength(1);
    expect(impact.groups[0]?.clusterCount).toBe(14);
    expect(impact.groups[0]?.clusters).toHaveLength(10);
    const text = formatCatalogImpact(impact);
    expect(text).toContain("14 of 14 cluster(s) affected");
    expect(text).toContain("and 4 more");
    expect(text).toMatch(/\+ \*\.cloud\.defender\.microsoft\.com HTTPS:443 \(defender\) <- 2026-06: /);
  });

  it("shows losses against the catalog they came from, per region", () => {
    const impact = catalogImpact([cluster("aks-old", { features: ["azure-monitor"] })], to, from);
    expect(impact.groups[0]?.gains).toEqual([]);
    expect(impact.groups[0]?.losses.map((l) => l.destination)).toContain(
      "*.in.applicationinsights.azure.com",
    );
    expect(formatCatalogImpact(impact)).toContain(
      "- *.in.applicationinsights.azure.com HTTPS:443 (azure-monitor) <- was 2026-06",
    );
  });

  it("resolves region placeholders to the cluster's region", () => {
    const old = loadCatalog("2023-06");
    const impact = catalogImpact([cluster("aks-eu", { region: "northeurope" })], old, to);
    const all = impact.groups.flatMap((g) => [...g.gains, ...g.losses]);
    expect(all.length).toBeGreaterThan(0);
    for (const item of all) expect(item.destination).not.toContain("{region}");
    expect(all.some((i) => i.destination === "packages.aks.azure.com")).toBe(true);
  });

  it("finds nothing when the catalogs agree", () => {
    expect(catalogImpact([cluster("a"), cluster("b")], to, to)).toMatchObject({
      clustersAffected: 0,
      groups: [],
    });
  });
});
