// Each seed document's tables and bullets must be in its catalog version exactly: no row dropped,
// none invented. The documents are parsed here independently of the catalog data. (The versions built
// from Microsoft's published page are checked by versions.test.ts: rebuilt from their page.)
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../catalog";
import { SHARED } from "../helpers/paths";

interface SeedRow {
  section: string;
  table: string;
  asWritten: string;
  portsAsWritten: string;
}

/** Reads the markdown tables of a seed: section anchors, the "- Azure …" labels, FQDN and port cells. */
function parseSeed(text: string): { rows: SeedRow[]; bullets: string[] } {
  const rows: SeedRow[] = [];
  const bullets: string[] = [];
  let section = "";
  let table = "";
  let tablesSeen = 0;
  for (const line of text.split("\n")) {
    const heading = /^## <a name="([^"]+)"><\/a>/.exec(line);
    if (heading) {
      section = heading[1] ?? "";
      table = "";
      continue;
    }
    const label = /^- (Azure .+)$/.exec(line.trim());
    if (label) {
      table = label[1] ?? "";
      continue;
    }
    if (
      section === "required-ports-and-addresses-for-aks-clusters" &&
      tablesSeen === 0 &&
      /^\* /.test(line)
    ) {
      bullets.push(line.slice(2).trim());
      continue;
    }
    if (!line.startsWith("|") || /^\|\s*FQDN\s/.test(line) || /^\|-/.test(line)) continue;
    tablesSeen++;
    const cells = line.split("|").map((c) => c.trim());
    const [, fqdns = "", ports = ""] = cells;
    for (const host of fqdns.split(", "))
      rows.push({ section, table, asWritten: host, portsAsWritten: ports });
  }
  return { rows, bullets };
}

const key = (r: SeedRow) => `${r.section} | ${r.table} | ${r.asWritten} | ${r.portsAsWritten}`;

describe.each([
  ["2020-01-22", "seeds/004_1ab95b1dd17bd9c6.txt"],
  ["2020-02-29", "seeds/000_8fe9a0e44694373c.txt"],
])("catalog %s reproduces %s", (version, file) => {
  const seed = parseSeed(fs.readFileSync(path.join(SHARED, file), "utf8"));
  const catalog = loadCatalog(version);

  it("names its source document", () => {
    expect(catalog.document.path).toBe(file);
  });

  it("has every table row of the document, and no other", () => {
    const fromCatalog = catalog.entries
      .filter((e) => e.source.bullet === undefined)
      .map((e) =>
        key({
          section: e.source.section,
          table: e.source.table ?? "",
          asWritten: e.asWritten,
          portsAsWritten: e.portsAsWritten ?? "",
        }),
      )
      .sort();
    expect(seed.rows.length).toBeGreaterThan(50);
    expect(fromCatalog).toEqual(seed.rows.map(key).sort());
  });

  it("has every required-port bullet of the document, in order", () => {
    const fromCatalog = catalog.entries
      .filter((e) => e.source.bullet !== undefined)
      .sort((a, b) => (a.source.bullet ?? 0) - (b.source.bullet ?? 0))
      .map((e) => e.asWritten);
    expect(seed.bullets).toHaveLength(5);
    expect(fromCatalog).toEqual(seed.bullets);
  });

  it("puts each cloud's table on that cloud only", () => {
    const byTable: Record<string, string> = {
      "Azure Global": "AzureCloud",
      "Azure China 21Vianet": "AzureChinaCloud",
      "Azure Government": "AzureUSGovernment",
    };
    for (const entry of catalog.entries.filter((e) => e.source.table !== undefined)) {
      expect(entry.clouds, entry.id).toEqual([byTable[entry.source.table ?? ""]]);
    }
  });

  it("explains every place where the data differs from the text", () => {
    for (const entry of catalog.entries) {
      const hostAsWritten = entry.asWritten.replace(/\\</g, "<").replace(/\\>/g, ">");
      const host = entry.destination.kind === "fqdn" ? entry.destination.host : undefined;
      const plain = host?.replace("{region}", "<location>").replace("{devSpacesGuid}", "<guid>");
      const sameHost =
        host === undefined ||
        entry.source.bullet !== undefined ||
        plain === hostAsWritten ||
        plain === hostAsWritten.replace("<ubicación>", "<location>");
      const samePorts =
        entry.portsAsWritten === undefined ||
        entry.portsAsWritten === entry.ports.map((p) => `${p.protocol}:${p.port}`).join(", ");
      if (!sameHost || !samePorts)
        expect(entry.note, `${entry.id} differs from the text without a note`).toBeDefined();
    }
  });
});
