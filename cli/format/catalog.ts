// Person-readable views of the catalog: its versions, and what changed between two of them.
import {
  type Catalog,
  type CatalogDiff,
  CLOUDS,
  DEFAULT_CATALOG_VERSION,
  featureOrder,
  OPTIONAL_FEATURES,
  parameterHelp,
  type RequirementChange,
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

/**
 * What changed between two catalog versions, grouped by cloud, then feature (the catalog's order).
 * `about` lines (where each side comes from) go under the title.
 */
export function catalogDiffAsText(diff: CatalogDiff, about: readonly string[] = []): string {
  const lines = [`Catalog ${diff.from} -> ${diff.to} (${diff.clouds.join(", ")})`, ...about, ""];
  const count = (changes: readonly RequirementChange[], k: keyof typeof SIGN) =>
    changes.filter((c) => c.change === k).length;
  const counts = (changes: readonly RequirementChange[]) =>
    `${count(changes, "added")} added, ${count(changes, "removed")} removed, ${count(changes, "changed")} changed`;
  if (diff.changes.length === 0) lines.push("No requirement differs.");
  const width = Math.min(48, Math.max(0, ...diff.changes.map((c) => c.destination.length)));
  for (const cloud of diff.clouds) {
    const ofCloud = diff.changes.filter((c) => c.cloud === cloud);
    if (ofCloud.length === 0) continue;
    lines.push(`${cloud}: ${counts(ofCloud)}`);
    for (const feature of featureOrder(ofCloud.map((c) => c.feature))) {
      lines.push(`  ${feature}`);
      for (const c of ofCloud.filter((x) => x.feature === feature)) {
        const ports =
          c.change === "changed" && c.before?.join() !== c.after?.join()
            ? `${c.before?.join(", ")} -> ${c.after?.join(", ")}`
            : (c.change === "removed" ? c.before : c.after)?.join(", ");
        lines.push(
          `    ${SIGN[c.change]} ${c.destination.padEnd(width)}  ${ports}${c.detail ? ` (${c.detail})` : ""}`,
        );
      }
    }
    lines.push("");
  }
  if (diff.changes.length === 0) lines.push("");
  lines.push(`${counts(diff.changes)}.`);
  return `${lines.join("\n")}\n`;
}
