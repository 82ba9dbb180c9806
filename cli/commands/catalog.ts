// `aks-egress catalog list|diff|import`: which catalog versions exist, how two of them differ, and a
// catalog version read from one version of Microsoft's page.
import fs from "node:fs";
import path from "node:path";
import { type Command, Option } from "commander";
import {
  type Catalog,
  CLOUDS,
  catalogVersions,
  diffCatalogs,
  loadCatalog,
  parseCloud,
  REGIONS,
} from "../../catalog";
import { type ImportedVersion, importPage } from "../../catalog/import";
import { type BuiltVersion, readPageAsVersion } from "../../catalog/import/version";
import { GuardError } from "../../errors";
import { catalogDiffAsText, catalogListAsJson, catalogListAsTable } from "../format/catalog";
import { table, widths } from "../format/text";
import type { CliContext } from "../main";

const FORMATS = ["table", "json"] as const;

export function registerCatalogCommands(program: Command, context: CliContext): void {
  const catalog = program
    .command("catalog")
    .description(
      "list catalog versions and regions, compare two versions or a version and a page, read a page",
    );

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
    .command("regions")
    .description("the regions each cloud has, by the names `--region` and a cluster's location take")
    .option("--cloud <cloud>", `only this cloud (${CLOUDS.join(", ")})`)
    .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("table"))
    .action((options: { cloud?: string; format: (typeof FORMATS)[number] }) => {
      const clouds = options.cloud === undefined ? CLOUDS : [parseCloud(options.cloud)];
      const regions = Object.fromEntries(clouds.map((c) => [c, REGIONS[c]]));
      context.io.out(
        options.format === "json"
          ? `${JSON.stringify(regions, null, 2)}\n`
          : clouds
              .map((c) => `${c} (${REGIONS[c].length} regions)\n${columnsOf(REGIONS[c], context.io.columns)}`)
              .join("\n\n")
              .concat("\n"),
      );
    });

  catalog
    .command("diff")
    .description(
      "what Microsoft changed: requirements added, removed and changed between two catalog versions, or a version and a page",
    )
    .argument("<from>", "older catalog version, or a page's markdown source (PAGE.md)")
    .argument("<to>", "newer catalog version, or a page's markdown source (PAGE.md)")
    .option("--cloud <cloud>", `only this cloud (${CLOUDS.join(", ")})`)
    .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("table"))
    .action((from: string, to: string, options: { cloud?: string; format: (typeof FORMATS)[number] }) => {
      const clouds = options.cloud === undefined ? CLOUDS : [parseCloud(options.cloud)];
      const a = catalogOrPage(from);
      const b = catalogOrPage(to);
      const diff = { ...diffCatalogs(a.catalog, b.catalog, clouds), from: a.label, to: b.label };
      const pages = [a, b].flatMap((side) => (side.page === undefined ? [] : [side.page]));
      context.io.out(
        options.format === "json"
          ? `${JSON.stringify({ ...diff, ...(pages.length > 0 ? { pages: pages.map(pageAsJson) } : {}) }, null, 2)}\n`
          : catalogDiffAsText(diff, [a, b].flatMap(aboutSide)),
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
      const outcome = importPage(source, {
        path: page.split(path.sep).join("/"),
        ...(options.version !== undefined ? { version: options.version } : {}),
        ...pageNaming(page),
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

interface DiffSide {
  /** How the diff names this side: the version id, or the page's path. */
  label: string;
  catalog: Catalog;
  page?: { path: string; built: BuiltVersion };
}

/** A shipped version by id; anything that looks like a file is a page, read as a version would be. */
function catalogOrPage(arg: string): DiffSide {
  if (catalogVersions().includes(arg)) return { label: arg, catalog: loadCatalog(arg) };
  const looksLikeFile = /\.(md|markdown)$/i.test(arg) || arg.includes("/") || arg.includes(path.sep);
  if (!looksLikeFile && !fs.existsSync(arg)) loadCatalog(arg); // throws: unknown version, with the valid ones
  const source = readPageFile(arg);
  const outcome = readPageAsVersion(source, { path: arg.split(path.sep).join("/"), ...pageNaming(arg) });
  if (!outcome.ok)
    throw new GuardError("BAD_ARGUMENT", `${arg}: ${outcome.problem}`, { details: { page: arg } });
  return { label: arg, catalog: outcome.built.catalog, page: { path: arg, built: outcome.built } };
}

/** Reference pages are named <commit date>-<short commit>.md: the date the page was taken. */
function pageNaming(page: string): { date?: string; reference?: string } {
  const named = /^(\d{4}-\d{2}-\d{2})-([0-9a-f]{7,40})\.md$/i.exec(path.basename(page));
  return named ? { date: named[1]!, reference: `commit ${named[2]}` } : {};
}

function aboutSide(side: DiffSide): string[] {
  const { catalog } = side;
  const source = `${catalog.document.title}, ${catalog.document.date} (${catalog.document.path})`;
  if (side.page === undefined) return [`  ${side.label}: ${source}`];
  const { built } = side.page;
  const own = built.judgements === catalog.version && built.unmatched.length === 0;
  const lines = [
    `  ${side.label}: read as catalog version ${catalog.version} (page of ${catalog.document.date}), with the judgements of ${built.judgements}${own ? "" : ` (${built.applied.length} applied, ${built.unmatched.length} no longer apply)`}`,
  ];
  for (const u of built.unmatched) lines.push(`    no longer applies (${u.kind}): ${u.reason}`);
  if (built.review.length > 0) {
    lines.push(
      `    ${built.review.length} row(s) could not be read and are not compared (see catalog import):`,
    );
    for (const r of built.review) lines.push(`      line ${r.line}: ${r.reason}`);
  }
  return lines;
}

function pageAsJson({ path: page, built }: { path: string; built: BuiltVersion }) {
  return {
    page,
    version: built.catalog.version,
    judgements: built.judgements,
    applied: built.applied,
    unmatched: built.unmatched,
    review: built.review,
  };
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

/** Names in aligned columns, filled row by row, as wide as the terminal allows (`ls` style). */
function columnsOf(names: readonly string[], width: number): string {
  const cell = Math.max(...names.map((n) => n.length)) + 2;
  const perLine = Math.max(1, Math.floor((width - 2) / cell));
  const lines: string[] = [];
  for (let i = 0; i < names.length; i += perLine)
    lines.push(
      `  ${names
        .slice(i, i + perLine)
        .map((n) => n.padEnd(cell))
        .join("")
        .trimEnd()}`,
    );
  return lines.join("\n");
}
