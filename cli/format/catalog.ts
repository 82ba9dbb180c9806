// Person-readable views of the catalog: its versions, and what changed between two of them.
import {
  type Catalog,
  type CatalogDiff,
  CLOUDS,
  DEFAULT_CATALOG_VERSION,
  featureOrder,
  OPTIONAL_FEATURES,
  parameterHelp,
} from "../../catalog";
import { table, widths } from "./text";

export function catalogListAsTable(catalogs: readonly Catalog[], columns: number): string {
  const rows = catalogs.map((c) => [
    c.version === DEFAULT_CATALOG_VERSION ? `${c.version} (default)` : c.version,
    c.document.date,
    `${c.document.language}`,
    `${c.entries.length}`,
    featureOrder(c.entries.map((e) => e.feature))
      .filter((f) => f !== "base")
      .join(", "),
    `${c.document.title}\n../shared/${c.document.path}`,
  ]);
  const params = parameterHelp();
  return `${[
    "Catalog versions (each one Microsoft document, immutable)",
    table(
      ["Version", "Date", "Lang", "Entries", "Features", "Source"],
      rows,
      widths(columns, [20, 12, 7, 9, 30]),
    ),
    "",
    `Clouds: ${CLOUDS.join(", ")}`,
    `Features: base (always on), ${OPTIONAL_FEATURES.join(", ")}`,
    "Parameters (--param name=value):",
    ...Object.entries(params).map(([name, help]) => `  ${name}: ${help}`),
  ].join("\n")}\n`;
}

export function catalogListAsJson(catalogs: readonly Catalog[]): string {
  return `${JSON.stringify(
    {
      default: DEFAULT_CATALOG_VERSION,
      versions: catalogs.map((c) => ({
        version: c.version,
        date: c.document.date,
        language: c.document.language,
        title: c.title,
        source: c.document.path,
        entries: c.entries.length,
        features: featureOrder(c.entries.map((e) => e.feature)),
        remarks: c.remarks,
      })),
      clouds: CLOUDS,
      features: ["base", ...OPTIONAL_FEATURES],
      parameters: parameterHelp(),
    },
    null,
    2,
  )}\n`;
}

const SIGN = { added: "+", removed: "-", changed: "~" } as const;

export function catalogDiffAsText(diff: CatalogDiff): string {
  const lines = [`Catalog ${diff.from} -> ${diff.to} (${diff.clouds.join(", ")})`, ""];
  if (diff.changes.length === 0) {
    lines.push("No requirement differs.");
  }
  for (const c of diff.changes) {
    const ports =
      c.change === "changed"
        ? `${c.before?.join(", ")} -> ${c.after?.join(", ")}`
        : (c.change === "added" ? c.after : c.before)?.join(", ");
    lines.push(
      `${SIGN[c.change]} ${c.cloud.padEnd(18)} ${c.feature.padEnd(16)} ${c.destination}  ${ports}${c.detail ? ` (${c.detail})` : ""}`,
    );
  }
  const count = (k: keyof typeof SIGN) => diff.changes.filter((c) => c.change === k).length;
  lines.push("", `${count("added")} added, ${count("removed")} removed, ${count("changed")} changed.`);
  return `${lines.join("\n")}\n`;
}
