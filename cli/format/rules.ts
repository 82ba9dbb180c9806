// The four ways `aks-egress rules` prints a rule set: a table for people, DESIGN §4's JSON, a Bicep
// rule collection group to paste into templates, and the equivalent `az` commands.
import { DNS_PROXY_NOTE, type RuleSet } from "../../catalog";
import { table, widths } from "./text";

export const RULE_FORMATS = ["table", "json", "bicep", "az"] as const;
export type RuleFormat = (typeof RULE_FORMATS)[number];

export interface RuleOutputOptions {
  /** Node subnet CIDRs for the rules' sources (bicep/az); a parameter/variable when absent. */
  sources: readonly string[];
  groupName: string;
  groupPriority: number;
  columns: number;
}

const protocolsText = (r: RuleSet["applicationRules"][number]) =>
  r.protocols.map((p) => `${p.protocolType}:${p.port}`).join(", ");

export function rulesAsTable(rules: RuleSet, options: RuleOutputOptions): string {
  const lines: string[] = [];
  lines.push(
    `Egress rules for ${rules.cloud} / ${rules.region} - catalog ${rules.catalog} - features: ${rules.features.join(", ")}`,
    "",
    `Application rules (${rules.applicationRules.length})`,
    table(
      ["Destination", "Protocols", "Feature", "Purpose"],
      rules.applicationRules.map((r) => [
        r.targetFqdns.join("\n"),
        protocolsText(r),
        featuresText(r.feature),
        purposeOf(r.description),
      ]),
      widths(options.columns, [44, 12, 16]),
    ),
    "",
    `Network rules (${rules.networkRules.length})`,
    table(
      ["Destination", "Protocol", "Ports", "Feature", "Purpose"],
      rules.networkRules.map((r) => [
        [...r.destinationAddresses, ...r.destinationFqdns.map((f) => `${f} (FQDN)`)].join("\n"),
        r.ipProtocols.join(","),
        r.destinationPorts.join(","),
        featuresText(r.feature),
        purposeOf(r.description),
      ]),
      widths(options.columns, [32, 10, 12, 16]),
    ),
  );
  if (rules.networkRules.some((r) => r.destinationFqdns.length > 0)) {
    lines.push(`(FQDN) network rules: ${DNS_PROXY_NOTE}`);
  }
  if (rules.unresolved.length > 0) {
    lines.push(
      "",
      `Unresolved (${rules.unresolved.length}) - not written as rules; give the missing values or handle them by hand`,
      table(
        ["Feature", "Entry", "Reason"],
        rules.unresolved.map((u) => [u.feature, u.entry, u.reason]),
        widths(options.columns, [16, 26]),
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** "base,gpu" as "base, gpu": a table wraps it between features. */
const featuresText = (feature: string) => feature.split(",").join(", ");

/** The description starts with the feature list; the table shows it in its own column. */
function purposeOf(description: string): string {
  return description.replace(/^[a-z0-9,\s-]+:\s*/, "");
}

export function rulesAsJson(rules: RuleSet): string {
  return `${JSON.stringify(rules, null, 2)}\n`;
}

const bicepString = (s: string) =>
  `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\$\{/g, "\\${")}'`;
const bicepArray = (items: readonly string[], indent: string) =>
  items.length === 0 ? "[]" : `[\n${items.map((i) => `${indent}  ${bicepString(i)}`).join("\n")}\n${indent}]`;

export function rulesAsBicep(rules: RuleSet, options: RuleOutputOptions): string {
  const i4 = "          ";
  const i6 = "            ";
  const networkRules = rules.networkRules.map((r) =>
    [
      `${i4}{`,
      `${i6}ruleType: 'NetworkRule'`,
      `${i6}name: ${bicepString(r.name)}`,
      `${i6}description: ${bicepString(r.description)}`,
      `${i6}ipProtocols: ${bicepArray(r.ipProtocols, i6)}`,
      `${i6}sourceAddresses: sourceAddresses`,
      ...(r.destinationAddresses.length > 0
        ? [`${i6}destinationAddresses: ${bicepArray(r.destinationAddresses, i6)}`]
        : []),
      ...(r.destinationFqdns.length > 0
        ? [`${i6}destinationFqdns: ${bicepArray(r.destinationFqdns, i6)}`]
        : []),
      `${i6}destinationPorts: ${bicepArray(r.destinationPorts, i6)}`,
      `${i4}}`,
    ].join("\n"),
  );
  const applicationRules = rules.applicationRules.map((r) =>
    [
      `${i4}{`,
      `${i6}ruleType: 'ApplicationRule'`,
      `${i6}name: ${bicepString(r.name)}`,
      `${i6}description: ${bicepString(r.description)}`,
      `${i6}sourceAddresses: sourceAddresses`,
      `${i6}protocols: [`,
      ...r.protocols.map((p) => `${i6}  { protocolType: '${p.protocolType}', port: ${p.port} }`),
      `${i6}]`,
      `${i6}targetFqdns: ${bicepArray(r.targetFqdns, i6)}`,
      `${i4}}`,
    ].join("\n"),
  );
  const collection = (name: string, priority: number, body: string[]) =>
    [
      "      {",
      "        ruleCollectionType: 'FirewallPolicyFilterRuleCollection'",
      `        name: '${name}'`,
      `        priority: ${priority}`,
      "        action: { type: 'Allow' }",
      "        rules: [",
      body.join("\n"),
      "        ]",
      "      }",
    ].join("\n");
  const collections = [
    ...(networkRules.length > 0 ? [collection("aks-egress-network", 100, networkRules)] : []),
    ...(applicationRules.length > 0 ? [collection("aks-egress-application", 200, applicationRules)] : []),
  ];
  const unresolved = rules.unresolved.map((u) => `// - ${u.feature} ${u.entry}: ${u.reason}`);
  return `${[
    `// AKS egress rules for ${rules.cloud}/${rules.region}, catalog ${rules.catalog}, features: ${rules.features.join(", ")}.`,
    "// Generated by aks-egress-guard (aks-egress rules --format bicep).",
    ...(unresolved.length > 0 ? ["// Not rendered (unresolved):", ...unresolved] : []),
    "",
    "@description('Name of the existing Azure Firewall Policy (in this resource group).')",
    "param firewallPolicyName string",
    "",
    "@description('CIDRs of the AKS node subnets: the only sources these rules allow.')",
    `param sourceAddresses array${options.sources.length > 0 ? ` = ${bicepArray(options.sources, "")}` : ""}`,
    "",
    `param ruleCollectionGroupName string = ${bicepString(options.groupName)}`,
    "",
    "@minValue(100)",
    "@maxValue(65000)",
    `param ruleCollectionGroupPriority int = ${options.groupPriority}`,
    "",
    "resource firewallPolicy 'Microsoft.Network/firewallPolicies@2024-05-01' existing = {",
    "  name: firewallPolicyName",
    "}",
    "",
    "resource aksEgressRules 'Microsoft.Network/firewallPolicies/ruleCollectionGroups@2024-05-01' = {",
    "  parent: firewallPolicy",
    "  name: ruleCollectionGroupName",
    "  properties: {",
    "    priority: ruleCollectionGroupPriority",
    "    ruleCollections: [",
    collections.join("\n"),
    "    ]",
    "  }",
    "}",
  ].join("\n")}\n`;
}

// The az output is a bash script: its "${...}" strings are shell expansions, not template mistakes
// (biome.json turns that lint off for this file).
/**
 * POSIX shell quoting: bare when safe, else single quotes (single quotes escaped); text with `$` or a
 * backquote goes in double quotes with those escaped, which says the same and is what shellcheck
 * (SC2016) takes as meant.
 */
const sh = (s: string) => {
  if (/^[A-Za-z0-9._:/=,@+-]+$/.test(s)) return s;
  if (/[$`]/.test(s)) return `"${s.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
  return `'${s.replace(/'/g, `'\\''`)}'`;
};

export function rulesAsAz(rules: RuleSet, options: RuleOutputOptions): string {
  const base = `--resource-group "$RESOURCE_GROUP" --policy-name "$FIREWALL_POLICY"`;
  const lines = [
    "#!/usr/bin/env bash",
    `# AKS egress rules for ${rules.cloud}/${rules.region}, catalog ${rules.catalog}, features: ${rules.features.join(", ")}.`,
    "# Generated by aks-egress-guard (aks-egress rules --format az). Needs the azure-firewall CLI extension.",
    ...rules.unresolved.map((u) => `# Not rendered (unresolved): ${u.feature} ${u.entry}: ${u.reason}`),
    "set -euo pipefail",
    // No quote characters inside these "${…:?…}" messages: bash reads an apostrophe there as the
    // start of a quoted string and cannot parse the script.
    ': "${RESOURCE_GROUP:?set RESOURCE_GROUP to the resource group of the firewall policy}"',
    ': "${FIREWALL_POLICY:?set FIREWALL_POLICY to the name of the firewall policy}"',
    ...(options.sources.length > 0
      ? [`SOURCE_ADDRESSES=(${options.sources.map(sh).join(" ")})`]
      : [
          ': "${SOURCES:?set SOURCES to the CIDRs of the AKS node subnets, e.g. SOURCES=10.0.0.0/22,10.0.4.0/22}"',
          'IFS=", " read -r -a SOURCE_ADDRESSES <<< "$SOURCES"',
        ]),
    `GROUP=${sh(options.groupName)}`,
    "",
    `az network firewall policy rule-collection-group create ${base} --name "$GROUP" --priority ${options.groupPriority}`,
  ];
  const emit = (collection: string, priority: number, ruleArgs: string[][]) => {
    ruleArgs.forEach((args, index) => {
      if (index === 0) {
        lines.push(
          `az network firewall policy rule-collection-group collection add-filter-collection ${base} --rule-collection-group-name "$GROUP" --name ${collection} --collection-priority ${priority} --action Allow ${args.join(" ")}`,
        );
      } else {
        lines.push(
          `az network firewall policy rule-collection-group collection rule add ${base} --rcg-name "$GROUP" --collection-name ${collection} ${args.join(" ").replace(/^--rule-name /, "--name ")}`,
        );
      }
    });
  };
  emit(
    "aks-egress-network",
    100,
    rules.networkRules.map((r) => [
      `--rule-name ${sh(r.name)}`,
      "--rule-type NetworkRule",
      `--description ${sh(r.description)}`,
      `--ip-protocols ${r.ipProtocols.join(" ")}`,
      '--source-addresses "${SOURCE_ADDRESSES[@]}"',
      ...(r.destinationAddresses.length > 0
        ? [`--destination-addresses ${r.destinationAddresses.map(sh).join(" ")}`]
        : []),
      ...(r.destinationFqdns.length > 0
        ? [`--destination-fqdns ${r.destinationFqdns.map(sh).join(" ")}`]
        : []),
      `--destination-ports ${r.destinationPorts.join(" ")}`,
    ]),
  );
  emit(
    "aks-egress-application",
    200,
    rules.applicationRules.map((r) => [
      `--rule-name ${sh(r.name)}`,
      "--rule-type ApplicationRule",
      `--description ${sh(r.description)}`,
      '--source-addresses "${SOURCE_ADDRESSES[@]}"',
      `--protocols ${r.protocols.map((p) => `${p.protocolType}=${p.port}`).join(" ")}`,
      `--target-fqdns ${r.targetFqdns.map(sh).join(" ")}`,
    ]),
  );
  return `${lines.join("\n")}\n`;
}
