// The importer against the five published versions of Microsoft's page: specific rows per version,
// every table row accounted for (an entry or a review item, counted independently with markdown-it),
// and line numbers that point at the row.
import fs from "node:fs";
import path from "node:path";
import MarkdownIt from "markdown-it";
import { describe, expect, it } from "vitest";
import { type CatalogEntry, type Cloud, catalogSchema, type Feature, renderRules } from "../../catalog";
import { type ImportedVersion, importPage, shippedJudgements } from "../../catalog/import";
import { SHARED } from "../helpers/paths";

const PAGES = path.join(SHARED, "reference", "pages");

const PAGE_FILES = {
  "2023-03": "2023-03-09-82dbc720e.md",
  "2023-06": "2023-06-13-2d1277dc0.md",
  "2024-06": "2024-06-14-a2148a2b1.md",
  "2025-02": "2025-02-06-f998eb20c.md",
  "2026-06": "2026-06-18-1bdcfff99.md",
} as const;
type PageName = keyof typeof PAGE_FILES;

const source = (page: PageName) => fs.readFileSync(path.join(PAGES, PAGE_FILES[page]), "utf8");

const imported = new Map<PageName, ImportedVersion>();
function importOf(page: PageName): ImportedVersion {
  let result = imported.get(page);
  if (result === undefined) {
    const outcome = importPage(source(page), { path: `reference/pages/${PAGE_FILES[page]}` });
    if (!outcome.ok) throw new Error(outcome.problem);
    result = outcome.imported;
    imported.set(page, result);
  }
  return result;
}

const hostOf = (e: CatalogEntry) => (e.destination.kind === "fqdn" ? e.destination.host : undefined);

function find(page: PageName, cloud: Cloud, feature: Feature, host: string): CatalogEntry[] {
  return importOf(page).catalog.entries.filter(
    (e) => e.clouds.includes(cloud) && e.feature === feature && hostOf(e) === host,
  );
}

/** Every body row of every markdown table, by 1-based line, read with markdown-it on its own. */
function tableRowLines(text: string): number[] {
  const tokens = new MarkdownIt({ html: true }).parse(text, {});
  const lines: number[] = [];
  let inBody = false;
  for (const token of tokens) {
    if (token.type === "tbody_open") inBody = true;
    if (token.type === "tbody_close") inBody = false;
    if (inBody && token.type === "tr_open") lines.push((token.map?.[0] ?? -1) + 1);
  }
  return lines;
}

interface Expectation {
  page: PageName;
  cloud: Cloud;
  feature: Feature;
  host: string;
  present: boolean;
  /** The ports the entry must have, when present. */
  ports?: string[];
}

const EXPECTATIONS: Expectation[] = [
  // packages.aks.azure.com arrives in 2025-02, for the public cloud and US Government, not China.
  { page: "2023-03", cloud: "AzureCloud", feature: "base", host: "packages.aks.azure.com", present: false },
  { page: "2023-06", cloud: "AzureCloud", feature: "base", host: "packages.aks.azure.com", present: false },
  { page: "2024-06", cloud: "AzureCloud", feature: "base", host: "packages.aks.azure.com", present: false },
  { page: "2025-02", cloud: "AzureCloud", feature: "base", host: "packages.aks.azure.com", present: true },
  {
    page: "2025-02",
    cloud: "AzureUSGovernment",
    feature: "base",
    host: "packages.aks.azure.com",
    present: true,
  },
  {
    page: "2025-02",
    cloud: "AzureChinaCloud",
    feature: "base",
    host: "packages.aks.azure.com",
    present: false,
  },
  {
    page: "2026-06",
    cloud: "AzureCloud",
    feature: "base",
    host: "packages.aks.azure.com",
    present: true,
    ports: ["HTTPS:443"],
  },
  { page: "2023-03", cloud: "AzureCloud", feature: "base", host: "acs-mirror.azureedge.net", present: true },
  { page: "2023-03", cloud: "AzureCloud", feature: "base", host: "*.hcp.{region}.azmk8s.io", present: true },
  {
    page: "2023-03",
    cloud: "AzureChinaCloud",
    feature: "base",
    host: "*.tun.{region}.cx.prod.service.azk8s.cn",
    present: true,
  },
  // The China table's leading-dot host, read as its wildcard.
  {
    page: "2023-03",
    cloud: "AzureChinaCloud",
    feature: "base",
    host: "*.data.mcr.microsoft.com",
    present: true,
  },
  // What the unmerged 2023-06 draft had and the published page never named.
  {
    page: "2023-06",
    cloud: "AzureChinaCloud",
    feature: "azure-monitor",
    host: "dc.services.visualstudio.cn",
    present: false,
  },
  { page: "2023-06", cloud: "AzureCloud", feature: "base", host: "mcr-0001.mcr-msedge.net", present: false },
  // 2023-06's Defender cells name the clouds by code name: (Fairfax), (Mooncake).
  {
    page: "2023-06",
    cloud: "AzureUSGovernment",
    feature: "defender",
    host: "login.microsoftonline.us",
    present: true,
  },
  {
    page: "2023-06",
    cloud: "AzureChinaCloud",
    feature: "defender",
    host: "login.microsoftonline.cn",
    present: true,
  },
  {
    page: "2023-06",
    cloud: "AzureCloud",
    feature: "defender",
    host: "login.microsoftonline.us",
    present: false,
  },
  {
    page: "2023-06",
    cloud: "AzureCloud",
    feature: "cluster-extensions",
    host: "arcmktplaceprod.azurecr.io",
    present: true,
  },
  {
    page: "2023-06",
    cloud: "AzureCloud",
    feature: "cluster-extensions",
    host: "marketplaceapi.microsoft.com",
    present: true,
  },
  { page: "2024-06", cloud: "AzureCloud", feature: "base", host: "mcr-0001.mcr-msedge.net", present: true },
  {
    page: "2024-06",
    cloud: "AzureChinaCloud",
    feature: "azure-monitor",
    host: "dc.services.visualstudio.cn",
    present: true,
  },
  {
    page: "2024-06",
    cloud: "AzureCloud",
    feature: "azure-monitor",
    host: "{region}.ingest.monitor.azure.com",
    present: true,
  },
  // An unlabelled Azure Monitor table beside China and US Government ones is the public cloud's.
  {
    page: "2024-06",
    cloud: "AzureChinaCloud",
    feature: "azure-monitor",
    host: "*.monitoring.azure.com",
    present: false,
  },
  {
    page: "2024-06",
    cloud: "AzureUSGovernment",
    feature: "cost-analysis",
    host: "management.usgovcloudapi.net",
    present: true,
  },
  {
    page: "2024-06",
    cloud: "AzureCloud",
    feature: "cost-analysis",
    host: "management.usgovcloudapi.net",
    present: false,
  },
  {
    page: "2025-02",
    cloud: "AzureChinaCloud",
    feature: "base",
    host: "login.chinacloudapi.cn",
    present: true,
  },
  {
    page: "2025-02",
    cloud: "AzureUSGovernment",
    feature: "keyvault-secrets-provider",
    host: "*.vault.usgovcloudapi.net",
    present: true,
  },
  {
    page: "2025-02",
    cloud: "AzureCloud",
    feature: "keyvault-secrets-provider",
    host: "*.vault.usgovcloudapi.net",
    present: false,
  },
  {
    page: "2025-02",
    cloud: "AzureCloud",
    feature: "azure-monitor",
    host: "*.metrics.ingest.monitor.azure.com",
    present: true,
    ports: ["HTTPS:443"],
  },
  {
    page: "2025-02",
    cloud: "AzureCloud",
    feature: "ubuntu-updates",
    host: "snapshot.ubuntu.com",
    present: true,
    ports: ["HTTPS:443"],
  },
  { page: "2026-06", cloud: "AzureChinaCloud", feature: "base", host: "mcr.azure.cn", present: true },
  { page: "2026-06", cloud: "AzureChinaCloud", feature: "base", host: "*.data.mcr.azure.cn", present: true },
  { page: "2026-06", cloud: "AzureCloud", feature: "base", host: "mcr.azure.cn", present: false },
  {
    page: "2026-06",
    cloud: "AzureChinaCloud",
    feature: "base",
    host: "*.data.mcr.microsoft.com",
    present: true,
  },
  {
    page: "2026-06",
    cloud: "AzureUSGovernment",
    feature: "defender",
    host: "*.cloud.defender.microsoft.com",
    present: true,
  },
  {
    page: "2026-06",
    cloud: "AzureUSGovernment",
    feature: "azure-monitor",
    host: "*.in.applicationinsights.azure.com",
    present: true,
  },
  {
    page: "2026-06",
    cloud: "AzureChinaCloud",
    feature: "azure-monitor",
    host: "{region}.handler.control.monitor.azure.cn",
    present: true,
  },
  { page: "2026-06", cloud: "AzureCloud", feature: "gpu", host: "nvidia.github.io", present: true },
  {
    page: "2026-06",
    cloud: "AzureUSGovernment",
    feature: "windows",
    host: "ctldl.windowsupdate.com",
    present: true,
    ports: ["HTTP:80"],
  },
];

describe("catalog import of the published pages", () => {
  it.each(EXPECTATIONS)("$page: $host for $cloud/$feature present=$present", (x) => {
    const found = find(x.page, x.cloud, x.feature, x.host);
    if (!x.present) {
      expect(found).toEqual([]);
      return;
    }
    expect(found.length).toBeGreaterThan(0);
    if (x.ports)
      for (const e of found) expect(e.ports.map((p) => `${p.protocol}:${p.port}`)).toEqual(x.ports);
  });

  it("2023-03 names packages.aks.azure.com nowhere, for no cloud and no feature", () => {
    expect(importOf("2023-03").catalog.entries.filter((e) => hostOf(e) === "packages.aks.azure.com")).toEqual(
      [],
    );
  });

  it.each([
    ["2023-03", 71, 0],
    ["2023-06", 81, 0],
    ["2024-06", 105, 0],
    ["2025-02", 119, 0],
    ["2026-06", 125, 0],
  ] as const)("%s gives %i entries and %i review items", (page, entries, review) => {
    expect(importOf(page).catalog.entries).toHaveLength(entries);
    expect(importOf(page).review).toHaveLength(review);
  });

  describe.each(Object.keys(PAGE_FILES) as PageName[])("%s", (page) => {
    const text = source(page);
    const pageLines = text.split("\n");

    it("accounts for every table row: an entry or a review item, never neither, never both", () => {
      const { lines, review } = importOf(page);
      const rows = tableRowLines(text);
      expect(rows.length).toBeGreaterThan(50);
      const fromEntries = new Set(Object.values(lines));
      const fromReview = new Set(review.map((r) => r.line));
      for (const row of rows) expect(fromEntries.has(row) !== fromReview.has(row), `line ${row}`).toBe(true);
      // And nothing comes from anywhere but a table row.
      expect([...fromEntries, ...fromReview].every((l) => rows.includes(l))).toBe(true);
    });

    it("points every entry at the row it was read from", () => {
      const { catalog, lines } = importOf(page);
      for (const entry of catalog.entries) {
        const line = pageLines[(lines[entry.id] ?? 0) - 1] ?? "";
        expect(line.trimStart().startsWith("|"), entry.id).toBe(true);
        expect(line, entry.id).toContain(entry.asWritten);
        if (entry.portsAsWritten !== undefined)
          for (const cell of entry.portsAsWritten.split(" | ")) expect(line, entry.id).toContain(cell);
      }
    });

    it("keeps every host as written, placeholders aside", () => {
      const { catalog } = importOf(page);
      for (const entry of catalog.entries) {
        const host = hostOf(entry);
        if (host === undefined) continue;
        const written = entry.asWritten.replace(
          /<(location|region|Region|cluster-region-name)>/g,
          "{region}",
        );
        const asPageWritesIt = host.startsWith("*.") && !written.includes(host) ? host.slice(1) : host;
        expect(written, entry.id).toContain(asPageWritesIt);
        if (asPageWritesIt !== host) expect(entry.note, entry.id).toMatch(/leading-dot/);
      }
    });

    it("is a valid catalog version with the page's section, heading and date", () => {
      const { catalog } = importOf(page);
      expect(() => catalogSchema.parse(catalog)).not.toThrow();
      expect(catalog.document.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      for (const entry of catalog.entries) {
        expect(entry.source.table, entry.id).toBeDefined();
        expect(entry.source.section).toMatch(/^[a-z0-9-]+$/);
        expect(entry.purpose.length).toBeGreaterThan(0);
      }
    });
  });

  it("reads the tunnel rows' alternatives as the API server, never *", () => {
    const tunnel = importOf("2025-02").catalog.entries.filter(
      (e) => e.destination.kind === "apiServer" && e.clouds.includes("AzureChinaCloud"),
    );
    expect(tunnel.map((e) => e.ports.map((p) => `${p.protocol}:${p.port}`).join())).toEqual([
      "UDP:1194",
      "TCP:9000",
      "TCP:22",
    ]);
    // China's 1194 row writes AzureCloud.Region without brackets: read as the placeholder, with a note.
    expect(tunnel[0]!.note).toMatch(/without angle brackets/);
    expect(tunnel[1]!.note).not.toMatch(/without angle brackets/);
  });

  it("reads CustomDNSIP and APIServerPublicIP as the parameters the operator gives", () => {
    const entries = importOf("2026-06").catalog.entries.filter((e) => e.clouds.includes("AzureCloud"));
    const dns = entries.find(
      (e) => e.destination.kind === "parameter" && e.destination.parameter === "dnsServers",
    );
    expect(dns).toMatchObject({
      feature: "base",
      onlyWithParameter: "dnsServers",
      condition: "if using custom DNS servers",
    });
    const api = entries.find(
      (e) => e.destination.kind === "parameter" && e.destination.parameter === "apiServerIp",
    );
    expect(api).toMatchObject({ feature: "pod-api-access", ports: [{ protocol: "TCP", port: 443 }] });
    const ntp = entries.find((e) => hostOf(e) === "ntp.ubuntu.com");
    expect(ntp).toMatchObject({ ports: [{ protocol: "UDP", port: 123 }] });
    expect(ntp?.note).toMatch(/never opens a rule to any destination/);
  });

  it("gives Workload identity's per-cloud sign-in hosts one cloud each", () => {
    const { catalog, lines } = importOf("2026-06");
    const rows = catalog.entries.filter((e) => lines[e.id] === 167);
    expect(rows.map((e) => [hostOf(e), e.clouds])).toEqual([
      ["login.microsoftonline.com", ["AzureCloud"]],
      ["login.chinacloudapi.cn", ["AzureChinaCloud"]],
      ["login.microsoftonline.us", ["AzureUSGovernment"]],
    ]);
    expect(rows.every((e) => e.source.section === "workload-identity-required-fqdn--application-rules")).toBe(
      true,
    );
  });

  it("marks the optional section's rows as not required, and nothing else", () => {
    const { catalog } = importOf("2026-06");
    expect([...new Set(catalog.entries.filter((e) => !e.required).map((e) => e.feature))]).toEqual([
      "ubuntu-updates",
    ]);
  });

  it("uses every judgement on some published page (the file holds no speculative calls)", () => {
    const judgements = shippedJudgements();
    const pages = Object.keys(PAGE_FILES) as PageName[];
    const notes = pages.flatMap((p) => importOf(p).catalog.entries.flatMap((e) => e.note ?? [])).join("\n");
    const noted = (note: string) => notes.includes(note);
    for (const j of [
      ...judgements.endpoints,
      ...judgements.alternatives,
      ...judgements.cloudSuffixes,
      ...judgements.bareApplicationPorts,
      judgements.anyDestination,
      judgements.unlabelledBesideLabelled,
    ])
      expect(noted(j.note), j.note).toBe(true);
    const headings = pages.flatMap((p) =>
      source(p)
        .split("\n")
        .filter((l) => l.startsWith("#")),
    );
    for (const rule of judgements.sections)
      expect(
        headings.some((h) => rule.phrases.some((phrase) => h.toLowerCase().includes(phrase))),
        rule.note,
      ).toBe(true);
    for (const name of judgements.clouds.flatMap((c) => c.names))
      expect(
        pages.some((p) => source(p).toLowerCase().includes(name)),
        name,
      ).toBe(true);
  });

  it("renders: the 2026-06 import opens packages.aks.azure.com for a public-cloud cluster", () => {
    const rules = renderRules({
      catalog: importOf("2026-06").catalog,
      cloud: "AzureCloud",
      region: "westeurope",
      features: [],
    });
    const hosts = rules.applicationRules.flatMap((a) => a.targetFqdns);
    expect(hosts).toContain("packages.aks.azure.com");
    expect(hosts).toContain("*.hcp.westeurope.azmk8s.io");
    expect(rules.networkRules.some((n) => n.destinationAddresses.includes("AzureCloud.westeurope"))).toBe(
      true,
    );
  });
});
