// `aks-egress rules`: the egress rules a cluster needs, for a cloud, region and feature set.
import { type Command, Option } from "commander";
import { z } from "zod";
import {
  DEFAULT_CATALOG_VERSION,
  loadCatalog,
  normaliseRegion,
  OPTIONAL_FEATURES,
  parseCloud,
  parseFeatures,
  parseParameters,
  renderRules,
} from "../../catalog";
import { GuardError } from "../../errors";
import {
  RULE_FORMATS,
  type RuleFormat,
  rulesAsAz,
  rulesAsBicep,
  rulesAsJson,
  rulesAsTable,
} from "../format/rules";
import type { CliContext } from "../main";
import { parseGroupPriority } from "../options";

const collect = (value: string, previous: string[]) => [...previous, value];
const address = z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]);

interface RulesOptions {
  cloud: string;
  region: string;
  features: string[];
  catalog: string;
  param: string[];
  format: RuleFormat;
  privateCluster: boolean;
  sources: string[];
  groupName: string;
  groupPriority: string;
}

function parseSources(values: readonly string[]): string[] {
  const sources = values
    .flatMap((v) => v.split(","))
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const source of sources) {
    if (!address.safeParse(source).success) {
      throw new GuardError(
        "BAD_ARGUMENT",
        `bad --sources value "${source}": expected IP addresses or CIDRs of the node subnets, e.g. 10.0.0.0/22 ("*" is never written).`,
      );
    }
  }
  return sources;
}

export function registerRulesCommand(program: Command, context: CliContext): void {
  program
    .command("rules")
    .description("print the Azure Firewall rules an AKS cluster needs")
    .requiredOption("--cloud <cloud>", "AzureCloud, AzureChinaCloud or AzureUSGovernment")
    .requiredOption("--region <region>", "the cluster's region, e.g. westeurope")
    .option(
      "--features <list>",
      `comma-separated optional features: ${OPTIONAL_FEATURES.join(", ")} (base is always on)`,
      collect,
      [],
    )
    .option("--catalog <version>", "catalog version (see `catalog list`)", DEFAULT_CATALOG_VERSION)
    .option(
      "--param <name=value>",
      "a value only the cluster knows, e.g. apiServerIp=20.1.2.3 (repeatable)",
      collect,
      [],
    )
    .addOption(new Option("--format <format>", "output format").choices(RULE_FORMATS).default("table"))
    .option("--private-cluster", "leave out what the documents say private clusters do not need", false)
    .option(
      "--sources <cidrs>",
      "node subnet CIDRs used as sources in bicep/az output (comma-separated)",
      collect,
      [],
    )
    .option("--group-name <name>", "rule collection group name in bicep/az output", "aks-egress-guard")
    .option("--group-priority <n>", "rule collection group priority in bicep/az output (100-65000)", "300")
    .addHelpText(
      "after",
      `
Examples:
  aks-egress rules --cloud AzureCloud --region westeurope --features gpu,azure-monitor
  aks-egress rules --cloud AzureUSGovernment --region usgovvirginia --features gpu,windows --catalog 2020-01-22 --format json
  aks-egress rules --cloud AzureCloud --region eastus --format bicep --sources 10.240.0.0/16 > aks-egress.bicep`,
    )
    .action((options: RulesOptions) => {
      const cloud = parseCloud(options.cloud);
      const region = normaliseRegion(cloud, options.region);
      const catalog = loadCatalog(options.catalog);
      const rules = renderRules({
        catalog,
        cloud,
        region,
        features: parseFeatures(options.features),
        parameters: parseParameters(options.param),
        privateCluster: options.privateCluster,
      });
      const outputOptions = {
        sources: parseSources(options.sources),
        groupName: options.groupName,
        groupPriority: parseGroupPriority(options.groupPriority),
        columns: context.io.columns,
      };
      const render = { table: rulesAsTable, json: rulesAsJson, bicep: rulesAsBicep, az: rulesAsAz }[
        options.format
      ];
      context.io.out(render(rules, outputOptions));
    });
}
