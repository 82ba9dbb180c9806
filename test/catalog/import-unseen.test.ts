// The importer against versions of the page it has not seen: reordered columns, new wording, a new
// section, malformed cells. What it can read becomes entries; everything else lands in review with its
// line; nothing is dropped and nothing invented.
import { describe, expect, it } from "vitest";
import type { CatalogEntry } from "../../catalog";
import { importPage, type Judgements, parseJudgements, shippedJudgements } from "../../catalog/import";

const UNSEEN = [
  "---",
  "title: Outbound network and FQDN rules for Azure Kubernetes Service (AKS) clusters",
  "ms.date: 01/15/2027",
  "---",
  "",
  "# Outbound network and FQDN rules for Azure Kubernetes Service (AKS) clusters",
  "",
  "## Required outbound network rules and FQDNs for AKS clusters",
  "",
  "### Azure Global required network rules",
  "",
  "| Port | Use | Destination Endpoint | Protocol |",
  "|---|---|---|---|",
  "| 1194 | Tunnel. | **`*:1194`** <br/> *Or* <br/> [ServiceTag](x) - **`AzureCloud.<Region>:1194`** <br/> *Or* <br/> [Regional CIDRs](y) - **`RegionCIDRs:1194`** <br/> *Or* <br/> **`APIServerPublicIP:1194`** | UDP |",
  "| 443 | Storage for node images. | [ServiceTag](x) - **`Storage.<Region>:443`** | TCP |",
  "| 8443 | A new endpoint. | **`NewThingIP:8443`** | TCP |",
  "| 53 | Anything. | **`*:53`** | UDP |",
  "| 123 | Time. | **`ntp.ubuntu.com:124`** | UDP |",
  "",
  "### Azure public cloud required FQDN / application rules",
  "",
  "| Use | Port | Destination FQDN |",
  "|---|---|---|",
  "| Images. | **`HTTPS:443`** | **`mcr.microsoft.com`**, **`*.data.mcr.microsoft.com`** |",
  "| Binaries. | 443 | packages.aks.azure.com |",
  "| Two hosts, no separator. | **`HTTPS:443`** | **`a.example.com`** **`b.example.com`** |",
  "| A placeholder nobody explained. | **`HTTPS:443`** | **`<workspace-id>.ods.opinsights.azure.com`** |",
  "| An unreadable port. | **`HTTPS:forty-three`** | **`c.example.com`** |",
  "| Alternatives. | **`HTTPS:443`** | **`d.example.com`** or **`e.example.com`** |",
  "| Upper case. | **`HTTPS:443`** | **`Login.Example.com`** |",
  "| Stray pipe. | **`HTTPS:443`** | **`f.example.com`** | extra |",
  "| HTML in the name. | **`HTTP:443`** | **`www<span></span>.msftconnecttest.com`** |",
  "| Words. | **`HTTPS:443`** | see the Azure Monitor section |",
  "",
  "### Azure operated by 21Vianet (China) required FQDN / application rules",
  "",
  "| Destination FQDN | Port | Use |",
  "|---|---|---|",
  "| **`mcr.azure.cn`** | **`HTTPS:443`** | China's registry. |",
  "",
  "## AKS features, add-ons, and integrations",
  "",
  "### Azure Container Storage",
  "",
  "| FQDN | Port | Use |",
  "|---|---|---|",
  "| **`acstor.azurecr.io`** | **`HTTPS:443`** | A section no judgement knows. |",
  "",
  "### Azure Policy",
  "",
  "| Cloud | FQDN | Port |",
  "|---|---|---|",
  "| Azure public cloud | **`data.policy.core.windows.net`** | **`HTTPS:443`** |",
  "",
  "### Microsoft Defender for Containers",
  "",
  "| FQDN | Port | Use |",
  "|---|---|---|",
  "| **`login.microsoftonline.com`** <br/> **`login.microsoftonline.us`** (Azure Government) | **`HTTPS:443`** | Sign-in. |",
  "",
  "<table><tr><td>sneaky.example.com</td><td>443</td></tr></table>",
  "",
].join("\n");

const lineOf = (fragment: string) => UNSEEN.split("\n").findIndex((l) => l.includes(fragment)) + 1;

function importUnseen(judgements?: Judgements) {
  const outcome = importPage(UNSEEN, { path: "unseen.md", ...(judgements ? { judgements } : {}) });
  if (!outcome.ok) throw new Error(outcome.problem);
  return outcome.imported;
}

const hostOf = (e: CatalogEntry) => (e.destination.kind === "fqdn" ? e.destination.host : undefined);

describe("catalog import of an unseen version", () => {
  const { catalog, lines, review } = importUnseen();
  const reviewAt = (fragment: string) => review.find((r) => r.line === lineOf(fragment));
  const entriesAt = (fragment: string) => catalog.entries.filter((e) => lines[e.id] === lineOf(fragment));

  it("reads reordered columns by their headers", () => {
    expect(entriesAt("AzureCloud.<Region>:1194")).toMatchObject([
      {
        destination: { kind: "apiServer" },
        ports: [{ protocol: "UDP", port: 1194 }],
        clouds: ["AzureCloud"],
      },
    ]);
    expect(entriesAt("Storage.<Region>:443")).toMatchObject([
      {
        destination: { kind: "serviceTag", tag: "Storage.{region}" },
        ports: [{ protocol: "TCP", port: 443 }],
      },
    ]);
    expect(entriesAt("**`mcr.microsoft.com`**, **`*.data.mcr.microsoft.com`**").map(hostOf)).toEqual([
      "mcr.microsoft.com",
      "*.data.mcr.microsoft.com",
    ]);
    // A host written without code formatting, a bare port in an application-rule table.
    expect(entriesAt("| Binaries. |")).toMatchObject([
      {
        destination: { host: "packages.aks.azure.com" },
        ports: [{ protocol: "HTTPS", port: 443 }],
        purpose: "Binaries.",
      },
    ]);
  });

  it("reads new heading wording for clouds", () => {
    expect(entriesAt("**`mcr.azure.cn`**")).toMatchObject([{ clouds: ["AzureChinaCloud"], feature: "base" }]);
  });

  it("normalises the page's known artefacts, each with a note", () => {
    const [entry] = entriesAt("www<span></span>");
    expect(entry).toMatchObject({
      destination: { host: "www.msftconnecttest.com" },
      ports: [{ protocol: "HTTPS", port: 443 }],
      asWritten: "**`www<span></span>.msftconnecttest.com`**",
      portsAsWritten: "**`HTTP:443`**",
    });
    expect(entry?.note).toMatch(/empty HTML element/);
    expect(entry?.note).toMatch(/HTTP:443/);
  });

  it.each([
    ["NewThingIP:8443", /no judgement says what it stands for/],
    ["**`*:53`**", /any destination/],
    ["ntp.ubuntu.com:124", /disagrees with the port column/],
    ["a.example.com", /not separated/],
    ["<workspace-id>", /placeholder <workspace-id>/],
    ["forty-three", /cannot read the port/],
    ["d.example.com", /alternatives/],
    ["Login.Example.com", /not a host name/],
    ["f.example.com", /more cell/],
    ["see the Azure Monitor section", /cannot read/],
    ["acstor.azurecr.io", /maps to no feature/],
    ["data.policy.core.windows.net", /column "Cloud"/],
    ["<table>", /HTML table/],
  ])("sends %s to review, never to a rule", (fragment, reason) => {
    const item = reviewAt(fragment);
    expect(item?.reason).toMatch(reason);
    expect(item?.text).toContain(fragment);
    expect(entriesAt(fragment)).toEqual([]);
  });

  it("accounts for every row exactly once and invents nothing", () => {
    // Table rows: lines starting with a pipe, other than headers (followed by a delimiter row) and delimiters.
    const source = UNSEEN.split("\n");
    const rowLines = source
      .map((l, i) => ({ l, next: source[i + 1] ?? "", line: i + 1 }))
      .filter(({ l, next }) => l.startsWith("|") && !l.startsWith("|---") && !next.startsWith("|---"))
      .map(({ line }) => line);
    expect(rowLines).toHaveLength(19);
    const accounted = [...new Set([...Object.values(lines), ...review.map((r) => r.line)])].sort(
      (a, b) => a - b,
    );
    expect(accounted).toEqual([...rowLines, lineOf("<table>")].sort((a, b) => a - b));
    const hosts = catalog.entries.map(hostOf).filter((h) => h !== undefined);
    for (const host of hosts)
      expect(UNSEEN).toContain(host.replace("{region}", "<Region>").replace("www.", "www<span></span>."));
  });

  it("gives per-cloud variants their clouds, and the unmarked host the clouds left", () => {
    expect(entriesAt("login.microsoftonline.us").map((e) => [hostOf(e), e.clouds])).toEqual([
      ["login.microsoftonline.com", ["AzureCloud", "AzureChinaCloud"]],
      ["login.microsoftonline.us", ["AzureUSGovernment"]],
    ]);
  });

  it("sends a whole section to review when the judgements lose its feature", () => {
    const shipped = shippedJudgements();
    const judgements = parseJudgements({
      ...shipped,
      sections: shipped.sections.filter((s) => s.feature !== "defender"),
    });
    const without = importUnseen(judgements);
    expect(without.review.find((r) => r.line === lineOf("login.microsoftonline.us"))?.reason).toMatch(
      /no feature/,
    );
    expect(without.catalog.entries.some((e) => e.feature === "defender")).toBe(false);
  });

  it("without a normalisation judgement, the artefact goes to review instead", () => {
    const shipped = shippedJudgements();
    const { emptyHtmlInHost: _, ...normalisations } = shipped.normalisations;
    const without = importUnseen(parseJudgements({ ...shipped, normalisations }));
    expect(without.review.find((r) => r.line === lineOf("www<span></span>"))?.reason).toMatch(/HTML/);
  });
});

describe("catalog import refuses what is not the page", () => {
  it.each([
    ["an empty file", ""],
    ["another page", "# Install the Azure CLI\n\n| Command | Use |\n|---|---|\n| az login | sign in |\n"],
    [
      "a page about outbound rules without a requirement table",
      "# Outbound rules for AKS\n\nNothing here.\n\n| Setting | Value |\n|---|---|\n| a | b |\n",
    ],
    ["binary noise", "\u0000\u0001\u0002PNG\u0000"],
  ])("%s", (_, text) => {
    const outcome = importPage(text, { path: "x.md" });
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.problem).toMatch(/not an AKS outbound-rules page/);
  });

  it("a page without ms.date needs a date", () => {
    const page = UNSEEN.replace("ms.date: 01/15/2027\n", "");
    const outcome = importPage(page, { path: "x.md" });
    expect(outcome).toMatchObject({ ok: false, problem: expect.stringMatching(/ms\.date/) });
    expect(importPage(page, { path: "x.md", date: "2027-01-15" })).toMatchObject({
      ok: true,
      imported: { catalog: { version: "2027-01" } },
    });
  });

  it("takes a version and date from its caller", () => {
    const outcome = importPage(UNSEEN, { path: "x.md", version: "2027-01-15", date: "2027-01-14" });
    expect(outcome).toMatchObject({ ok: true, imported: { catalog: { version: "2027-01-15" } } });
    expect(importPage(UNSEEN, { path: "x.md", version: "January" })).toMatchObject({ ok: false });
  });
});

describe("judgements.json", () => {
  it("parses, and every judgement carries a note", () => {
    const judgements = shippedJudgements();
    expect(judgements.sections.length).toBeGreaterThan(0);
    expect(judgements.sections.every((s) => s.note.length > 10)).toBe(true);
  });

  it("rejects a feature the catalog does not have", () => {
    const shipped = shippedJudgements();
    expect(() =>
      parseJudgements({
        ...shipped,
        sections: [{ phrases: ["x"], feature: "service-mesh", note: "n" }],
      }),
    ).toThrow(/sections\.0\.feature/);
  });
});
