// `aks-egress catalog list|diff`: which catalog versions exist, and how two of them differ.
import { type Command, Option } from "commander";
import { CLOUDS, catalogVersions, diffCatalogs, loadCatalog, parseCloud } from "../../catalog";
import { catalogDiffAsText, catalogListAsJson, catalogListAsTable } from "../format/catalog";
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

  for (const command of catalog.commands) command.exitOverride();
}
