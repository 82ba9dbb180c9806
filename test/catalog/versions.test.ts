// Every shipped catalog version built from Microsoft's page is reproducible: the importer's reading of
// its page (../shared/reference/pages) plus its reviewed judgement file (catalog/judgements/<version>.json)
// gives exactly the data in catalog/versions/<version>.json. UPDATE_CATALOG=1 rewrites the shipped
// file from the page; read the diff before committing it (a shipped version is immutable once released).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  type Catalog,
  catalogVersions,
  DEFAULT_CATALOG_VERSION,
  loadCatalog,
  renderRules,
} from "../../catalog";
import { importPage } from "../../catalog/import";
import {
  applyVersionJudgements,
  buildShippedVersion,
  parseVersionJudgements,
  readPageAsVersion,
  shippedVersionJudgements,
} from "../../catalog/import/version";
import { ROOT, SHARED } from "../helpers/paths";

const UPDATE = process.env.UPDATE_CATALOG === "1";
const pageOf = (version: string) => {
  const j = shippedVersionJudgements().find((x) => x.version === version);
  if (j === undefined) throw new Error(`no judgements for ${version}`);
  return fs.readFileSync(path.join(SHARED, j.page.path), "utf8");
};
const built = (version: string) => {
  const outcome = buildShippedVersion(version, pageOf(version));
  if (!outcome.ok) throw new Error(outcome.problem);
  return outcome.built;
};
const hostOf = (e: Catalog["entries"][number]) => (e.destination.kind === "fqdn" ? e.destination.host : "");

describe("catalog versions built from the published page", () => {
  it("are the page versions 2023-06, 2025-02 and 2026-06; the newest is the default", () => {
    expect(shippedVersionJudgements().map((j) => j.version)).toEqual(["2023-06", "2025-02", "2026-06"]);
    expect(catalogVersions()).toEqual(["2020-01-22", "2020-02-29", "2023-06", "2025-02", "2026-06"]);
    expect(DEFAULT_CATALOG_VERSION).toBe("2026-06");
  });

  describe.each(shippedVersionJudgements().map((j) => j.version))("%s", (version) => {
    it("is exactly the importer's reading of its page plus its judgement file", () => {
      const file = path.join(ROOT, "catalog", "versions", `${version}.json`);
      const data = `${JSON.stringify(built(version).catalog, null, 2)}\n`;
      if (UPDATE) fs.writeFileSync(file, data);
      expect(data).toBe(fs.readFileSync(file, "utf8"));
      expect(loadCatalog(version)).toEqual(built(version).catalog);
    });

    it("uses every judgement of its file, and the page has nothing to review", () => {
      const b = built(version);
      expect(b.unmatched).toEqual([]);
      expect(b.review).toEqual([]);
      for (const a of b.applied) if (a.kind !== "remark") expect(a.entries.length, a.note).toBeGreaterThan(0);
    });

    it("keeps every entry's page line and says why wherever it differs from the importer", () => {
      const catalog = built(version).catalog;
      const lines = pageOf(version).split("\n");
      const j = shippedVersionJudgements().find((x) => x.version === version)!;
      const outcome = importPage(pageOf(version), { path: j.page.path, version, date: j.page.date });
      if (!outcome.ok) throw new Error(outcome.problem);
      const imported = new Map(outcome.imported.catalog.entries.map((e) => [e.id, e]));
      for (const entry of catalog.entries) {
        const line = entry.source.line;
        expect(line, entry.id).toBeDefined();
        const text = lines[(line ?? 0) - 1] ?? "";
        // A pointer's copy cites the heading that points; every other entry, the row it comes from.
        if (text.startsWith("#")) expect(entry.note, entry.id).toBeDefined();
        else expect(text, entry.id).toContain(entry.asWritten);
        const before = imported.get(entry.id);
        if (before === undefined || JSON.stringify(before) !== JSON.stringify(entry))
          expect(entry.note, `${entry.id} differs from the import without a note`).toBeDefined();
      }
    });
  });

  it("refuses a page that is not the one the version was built from", () => {
    const outcome = buildShippedVersion("2026-06", pageOf("2025-02"));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.problem).toMatch(/is not reference\/pages\/2026-06-18-1bdcfff99\.md/);
    expect(buildShippedVersion("2020-01-22", "x")).toMatchObject({ ok: false });
  });

  it("2023-06 holds only what the June 2023 page published", () => {
    const catalog = loadCatalog("2023-06");
    const hosts = catalog.entries.map(hostOf);
    for (const never of [
      "dc.services.visualstudio.cn",
      "dc.services.visualstudio.us",
      "global.handler.control.monitor.azure.cn",
      "global.handler.control.monitor.azure.us",
      "*.vault.usgovcloudapi.net",
      "mcr-0001.mcr-msedge.net",
      "packages.aks.azure.com",
    ])
      expect(hosts, never).not.toContain(never);
    // The unpublished private-cluster row (API server subnet, TCP 4443 / UDP 9988) is gone.
    const ports = catalog.entries.flatMap((e) => e.ports.map((p) => `${p.protocol}:${p.port}`));
    expect(ports).not.toContain("TCP:4443");
    expect(ports).not.toContain("UDP:9988");
    expect(
      catalog.entries.some(
        (e) => e.destination.kind === "parameter" && e.destination.parameter === "apiServerSubnet",
      ),
    ).toBe(false);
    expect(catalog.document).toMatchObject({
      path: "reference/pages/2023-06-13-2d1277dc0.md",
      date: "2023-06-13",
      reference: expect.stringContaining("commit 2d1277dc002cf5547c8e1f997bc97689009cbf53"),
    });
  });

  it("2025-02 is the first with packages.aks.azure.com, for the public cloud and US Government", () => {
    for (const version of ["2023-06", "2025-02", "2026-06"]) {
      const clouds = loadCatalog(version)
        .entries.filter((e) => hostOf(e) === "packages.aks.azure.com")
        .flatMap((e) => e.clouds);
      expect(clouds, version).toEqual(version === "2023-06" ? [] : ["AzureCloud", "AzureUSGovernment"]);
    }
  });

  describe("the judgement calls, as rendered", () => {
    const render = (
      version: string,
      cloud: "AzureCloud" | "AzureChinaCloud" | "AzureUSGovernment",
      features: string[],
      privateCluster = false,
      region = cloud === "AzureCloud"
        ? "westeurope"
        : cloud === "AzureChinaCloud"
          ? "chinaeast2"
          : "usgovvirginia",
    ) =>
      renderRules({
        catalog: loadCatalog(version),
        cloud,
        region,
        features: features as never,
        privateCluster,
      });
    const apps = (r: ReturnType<typeof render>) => r.applicationRules.flatMap((a) => a.targetFqdns);

    it("private clusters leave out what the public cloud's rows say they do not need", () => {
      const open = render("2026-06", "AzureCloud", ["pod-api-access"]);
      const closed = render("2026-06", "AzureCloud", ["pod-api-access"], true);
      expect(apps(open)).toContain("*.hcp.westeurope.azmk8s.io");
      expect(apps(closed)).not.toContain("*.hcp.westeurope.azmk8s.io");
      expect(open.networkRules.some((n) => n.destinationPorts.includes("1194"))).toBe(true);
      expect(closed.networkRules.some((n) => n.destinationPorts.includes("1194"))).toBe(false);
      expect(open.networkRules.find((n) => n.destinationPorts.includes("1194"))?.description).toMatch(
        /not for private clusters or clusters with konnectivity-agent/,
      );
      // The page says nothing of private clusters in the other clouds' rows: kept as written.
      const china = render("2026-06", "AzureChinaCloud", [], true);
      expect(china.networkRules.some((n) => n.destinationPorts.includes("1194"))).toBe(true);
    });

    it("vault.azure.net is the public cloud's; US Government has its own host; China gets a notice", () => {
      expect(apps(render("2026-06", "AzureCloud", ["keyvault-secrets-provider"]))).toContain(
        "vault.azure.net",
      );
      const gov = apps(render("2026-06", "AzureUSGovernment", ["keyvault-secrets-provider"]));
      expect(gov).toContain("*.vault.usgovcloudapi.net");
      expect(gov).not.toContain("vault.azure.net");
      const china = render("2026-06", "AzureChinaCloud", ["keyvault-secrets-provider"]);
      expect(apps(china)).not.toContain("vault.azure.net");
      expect(china.unresolved).toContainEqual(
        expect.objectContaining({ feature: "keyvault-secrets-provider", entry: "(none)" }),
      );
    });

    it("Istio and application routing open the Key Vault provider's hosts, with their condition", () => {
      for (const feature of ["istio", "application-routing"]) {
        const rules = render("2026-06", "AzureCloud", [feature]);
        const vault = rules.applicationRules.find((a) => a.targetFqdns.includes("vault.azure.net"));
        expect(vault?.feature, feature).toBe(feature);
        expect(vault?.description).toMatch(feature === "istio" ? /plug-in CA/ : /Azure Key Vault/);
      }
      const both = render("2026-06", "AzureCloud", ["keyvault-secrets-provider", "istio"]);
      expect(both.applicationRules.find((a) => a.targetFqdns.includes("vault.azure.net"))?.feature).toBe(
        "keyvault-secrets-provider,istio",
      );
      expect(render("2023-06", "AzureCloud", ["istio"]).unresolved).toContainEqual(
        expect.objectContaining({ feature: "istio", entry: "(none)" }),
      );
    });

    it("workload identity opens each cloud's sign-in host", () => {
      expect(render("2026-06", "AzureChinaCloud", ["workload-identity"]).applicationRules).toContainEqual(
        expect.objectContaining({
          targetFqdns: ["login.chinacloudapi.cn"],
          feature: "base,workload-identity",
        }),
      );
      expect(apps(render("2026-06", "AzureUSGovernment", ["workload-identity"]))).toContain(
        "login.microsoftonline.us",
      );
    });

    it("regional marketplace endpoints are rendered in their region only", () => {
      const weu = apps(render("2026-06", "AzureCloud", ["cluster-extensions"]));
      expect(weu).toContain("arcmktplaceprod.westeurope.data.azurecr.io");
      expect(weu).not.toContain("arcmktplaceprod.eastus.data.azurecr.io");
      const neu = apps(render("2026-06", "AzureCloud", ["cluster-extensions"], false, "northeurope"));
      expect(neu.filter((h) => h.includes(".data.azurecr.io"))).toEqual([]);
    });

    it("Azure Monitor: 2023-06 offered the service tag as an alternative (public cloud), 2026-06 requires it", () => {
      const tag = (r: ReturnType<typeof render>) =>
        r.networkRules.some((n) => n.destinationAddresses.includes("AzureMonitor"));
      expect(tag(render("2023-06", "AzureCloud", ["azure-monitor"]))).toBe(false);
      expect(apps(render("2023-06", "AzureCloud", ["azure-monitor"]))).toContain(
        "*.ods.opinsights.azure.com",
      );
      // 2023-06's FQDNs are the public cloud's hosts: the other clouds get the tag.
      expect(tag(render("2023-06", "AzureChinaCloud", ["azure-monitor"]))).toBe(true);
      expect(apps(render("2023-06", "AzureChinaCloud", ["azure-monitor"]))).not.toContain(
        "*.ods.opinsights.azure.com",
      );
      for (const cloud of ["AzureCloud", "AzureChinaCloud", "AzureUSGovernment"] as const)
        expect(tag(render("2026-06", cloud, ["azure-monitor"])), cloud).toBe(true);
      expect(apps(render("2026-06", "AzureCloud", ["azure-monitor"]))).toContain(
        "westeurope.handler.control.monitor.azure.com",
      );
    });
  });

  describe("reading a page no version was built from", () => {
    it("uses the version's own judgements for its own page, whatever the file is called", () => {
      const outcome = readPageAsVersion(pageOf("2025-02"), { path: "copy.md" });
      expect(outcome.ok && outcome.built.catalog).toEqual(loadCatalog("2025-02"));
    });

    it("uses the newest version's judgements otherwise, and says which no longer apply", () => {
      const page = fs.readFileSync(path.join(SHARED, "reference/pages/2024-06-14-a2148a2b1.md"), "utf8");
      const outcome = readPageAsVersion(page, { path: "2024.md" });
      if (!outcome.ok) throw new Error(outcome.problem);
      expect(outcome.built.judgements).toBe("2026-06");
      expect(outcome.built.unmatched.map((u) => u.kind)).toEqual(
        expect.arrayContaining(["pointer", "remark"]),
      );
      expect(outcome.built.unmatched.some((u) => /istio/.test(u.reason))).toBe(true);
      // The judgements that still apply do: vault.azure.net is the public cloud's.
      expect(
        outcome.built.catalog.entries.filter((e) => hostOf(e) === "vault.azure.net").flatMap((e) => e.clouds),
      ).toEqual(["AzureCloud"]);
    });
  });

  describe("judgement files", () => {
    const good = () => structuredClone(shippedVersionJudgements()[2]) as unknown as Record<string, unknown>;

    it("are checked: a judgement that changes nothing, or a file named for another version, is refused", () => {
      const data = good();
      (data.entries as { set: object }[])[0]!.set = {};
      expect(() => parseVersionJudgements("catalog/judgements/2026-06.json", data)).toThrow(
        /entries\.0\.set: set at least one field/,
      );
      expect(() => parseVersionJudgements("catalog/judgements/2025-02.json", good())).toThrow(
        /does not match the file name/,
      );
    });

    it("never drop an entry: a scoped judgement splits it, and a narrowed one keeps its other clouds' absence noted", () => {
      const j = shippedVersionJudgements()[0]!;
      const outcome = importPage(pageOf("2023-06"), {
        path: j.page.path,
        version: "2023-06",
        date: j.page.date,
      });
      if (!outcome.ok) throw new Error(outcome.problem);
      const b = applyVersionJudgements(pageOf("2023-06"), outcome.imported, j);
      const tags = b.catalog.entries.filter((e) => e.destination.kind === "serviceTag");
      expect(tags.map((e) => [e.clouds, e.alternative !== undefined])).toEqual([
        [["AzureCloud"], true],
        [["AzureChinaCloud", "AzureUSGovernment"], false],
      ]);
      expect(b.catalog.entries.length).toBe(outcome.imported.catalog.entries.length + 1);
    });
  });
});
