// `aks-egress catalog list|diff|import`: which catalog versions exist, how two of them differ, and a
// catalog version read from one version of Microsoft's page.
import fs from "node:fs";
import path from "node:path";
import { type Command, Option } from "commander";
import { CLOUDS, catalogVersions, diffCatalogs, loadCatalog, parseCloud } from "../../catalog";
import { type ImportedVersion, importPage } from "../../catalog/import";
import { GuardError } from "../../errors";
import { catalogDiffAsText, catalogListAsJson, catalogListAsTable } from "../format/catalog";
import { table, widths } from "../format/text";
import type { CliContext } from "../main";

const FORMATS = ["table", "json"] as const;

export function registerCatalogCommands(program: Command, context: CliContext): void {
  const catalog = program.command("catalog").description("list catalog versions or compare two of them");

  catalog
    .command("list")
    .description("catalog versions (with source and date), clouds, features and parameters")
    .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("table"))
    .action((options: { format: (typeof FORMATS)[number] }) => {
      const all = catalogVersions().map((v) => loadCatalog(v));
      context.io.out(
        options.format === "json" ? catalogListAsJson(all) : catalogListAsTable(all, context.io.columns),
      );
    });

  catalog
    .command("diff")
    .description("requirements added, removed and changed between two catalog versions")
    .argument("<from>", "older catalog version")
    .argument("<to>", "newer catalog version")
    .option("--cloud <cloud>", `only this cloud (${CLOUDS.join(", ")})`)
    .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("table"))
    .action((from: string, to: string, options: { cloud?: string; format: (typeof FORMATS)[number] }) => {
      const clouds = options.cloud === undefined ? CLOUDS : [parseCloud(options.cloud)];
      const diff = diffCatalogs(loadCatalog(from), loadCatalog(to), clouds);
      context.io.out(
        options.format === "json" ? `${JSON.stringify(diff, null, 2)}\n` : catalogDiffAsText(diff),
      );
    });

  // `catalog import --version V` names the catalog version: the program's own -V/--version must then
  // stop at the subcommand (commander's positional options) or it would print the tool's version.
  program.enablePositionalOptions();
  catalog
    .command("import")
    .description(
      "read one version of Microsoft's AKS outbound-rules page (markdown source) as a catalog version",
    )
    .argument("<page>", "the page's markdown source, e.g. ../shared/reference/pages/2026-06-18-1bdcfff99.md")
    .option(
      "--version <version>",
      "catalog version id (YYYY-MM or YYYY-MM-DD); default: the page's year and month",
    )
    .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("table"))
    .action((page: string, options: { version?: string; format: (typeof FORMATS)[number] }) => {
      const source = readPageFile(page);
      // Reference pages are named <commit date>-<short commit>.md: the date the page was taken.
      const named = /^(\d{4}-\d{2}-\d{2})-([0-9a-f]{7,40})\.md$/i.exec(path.basename(page));
      const outcome = importPage(source, {
        path: page.split(path.sep).join("/"),
        ...(options.version !== undefined ? { version: options.version } : {}),
        ...(named ? { date: named[1]!, reference: `commit ${named[2]}` } : {}),
      });
      if (!outcome.ok)
        throw new GuardError("BAD_ARGUMENT", `${page}: ${outcome.problem}`, { details: { page } });
      const { catalog, lines, review } = outcome.imported;
      context.io.out(
        options.format === "json"
          ? `${JSON.stringify({ ...catalog, lines, review }, null, 2)}\n`
          : importAsText(outcome.imported, context.io.columns),
      );
    });

  for (const command of catalog.commands) command.exitOverride();
}

function readPageFile(page: string): string {
  try {
    return fs.readFileSync(page, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (error as Error).message;
    throw new GuardError("BAD_ARGUMENT", `cannot read the page ${page}: ${reason}`, { details: { page } });
  }
}

function importAsText({ catalog, lines, review }: ImportedVersion, columns: number): string {
  const shortCloud = { AzureCloud: "public", AzureChinaCloud: "china", AzureUSGovernment: "usgov" } as const;
  const rows = catalog.entries.map((e) => {
    const d = e.destination;
    const destination =
      d.kind === "fqdn"
        ? d.host
        : d.kind === "serviceTag"
          ? `service tag ${d.tag}`
          : d.kind === "parameter"
            ? `<${d.parameter}>`
            : d.kind === "apiServer"
              ? "<API server>"
              : "<no destination>";
    return [
      String(lines[e.id] ?? ""),
      e.feature + (e.required ? "" : " (optional)"),
      e.clouds.map((c) => shortCloud[c]).join(", "),
      e.ports.map((p) => `${p.protocol}:${p.port}`).join(", "),
      destination,
    ];
  });
  const head = `Catalog version ${catalog.version} from ${catalog.document.path} (page of ${catalog.document.date}): ${catalog.entries.length} entries, ${review.length} row(s) to review`;
  const parts = [
    head,
    table(["Line", "Feature", "Clouds", "Ports", "Destination"], rows, widths(columns, [6, 28, 20, 12])),
  ];
  if (review.length > 0) {
    parts.push("", "To review (never made into rules):");
    for (const r of review) parts.push(`  line ${r.line}: ${r.reason}`, `    ${r.text}`);
  }
  return `${parts.join("\n")}\n`;
}
