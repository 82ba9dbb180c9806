// `aks-egress check`: a terraform-plan for a firewall policy. Exit 0 no drift, 2 drift found,
// 1 error (bad input included, so that a typo is never mistaken for drift).

import fs from "node:fs";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { Option } from "commander";
import { resolverServerProblem } from "../../azure/api-server-address";
import { type ArmConnection, armConnection, isLocalEndpoint } from "../../azure/clients";
import { CLOUD_ENDPOINTS } from "../../azure/clouds";
import { readCluster, type SubnetFacts, subnetsByNetworkList } from "../../azure/clusters";
import { FIREWALL_POLICY_TYPE, MANAGED_CLUSTER_TYPE, parseResourceId } from "../../azure/resource-id";
import { isRestError } from "../../azure/sdk";
import { DEFAULT_CATALOG_VERSION, loadCatalog, parseCloud, parseFeatures } from "../../catalog";
import { type ClusterFacts, profileFromFacts } from "../../drift/cluster-profile";
import { migrationReason } from "../../drift/decision";
import { formatPlan } from "../../drift/format";
import type { ClusterProfile, Finding, Plan } from "../../drift/types";
import { GuardError, isGuardError } from "../../errors";
import { readEgress, tagDisagreement } from "../../orchestrations/activities/gather";
import { applyPlan, checkPolicy, type PassSettings } from "../../orchestrations/activities/plan";
import { type ClusterEgress, formatClusterEgress } from "../../topology";
import {
  type ArmTarget,
  CA_FILE_VARIABLE,
  describeArmFailure,
  ENDPOINT_VARIABLE,
  readArmVariables,
  type Setting,
  WHERE_THE_CA_IS,
} from "../connection";
import type { CliContext } from "../main";
import { parseGroupPriority } from "../options";

export const CHECK_EXIT = { noDrift: 0, error: 1, drift: 2 } as const;

interface CheckOptions {
  cluster?: string;
  firewallPolicy?: string;
  apply: boolean;
  yes: boolean;
  approveMigration: boolean;
  endpoint?: string;
  caFile?: string;
  cloud: string;
  subscription: string[];
  catalog: string;
  groupName: string;
  groupPriority: string;
  defaultFeatures: string[];
  allowAnySource: boolean;
  includeUntagged: boolean;
  resolver: string[];
  format: "table" | "json";
}

const RESOLVERS_VARIABLE = "AKS_EGRESS_RESOLVERS";

/** --resolver, else $AKS_EGRESS_RESOLVERS, else none (the host's DNS); a bad server is named. */
function resolversFrom(options: CheckOptions): string[] {
  const given =
    options.resolver.length > 0
      ? options.resolver
      : (process.env[RESOLVERS_VARIABLE] ?? "")
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "");
  for (const server of given) {
    const problem = resolverServerProblem(server);
    if (problem !== undefined) throw new GuardError("BAD_ARGUMENT", `--resolver: ${problem}.`);
  }
  return given;
}

/** What the pass filled in from the network (or the parameters tag) for one cluster, for the path. */
export function formatClusterParameters(profile: ClusterProfile): string | undefined {
  const entries = Object.entries(profile.parameters);
  if (entries.length === 0) return undefined;
  const items = entries.map(
    ([name, values]) =>
      `${name}=${(values ?? []).join(",")}${name === "apiServerIp" && profile.apiServerIpFromFqdn ? " (resolved from its API server FQDN)" : ""}`,
  );
  return `Values only the cluster knows: ${items.join("; ")}`;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** The connection `check` uses, and what it points at (for messages when it fails). */
function connectionFrom(
  options: CheckOptions,
  context: CliContext,
): { connection: ArmConnection; target: ArmTarget } {
  const cloud = parseCloud(options.cloud);
  const variables = readArmVariables(process.env);
  if (variables.note !== undefined) context.io.err(`${variables.note}\n`);
  const endpoint: Setting | undefined =
    options.endpoint !== undefined ? { value: options.endpoint, from: "--endpoint" } : variables.endpoint;
  if (endpoint === undefined) {
    const target = { endpoint: CLOUD_ENDPOINTS[cloud].armEndpoint, endpointFrom: undefined, local: false };
    return { connection: armConnection(cloud), target };
  }
  let url: URL | undefined;
  try {
    url = new URL(endpoint.value);
  } catch {
    // reported below
  }
  if (url?.protocol !== "https:") {
    // The SDK sends a token over HTTPS only; the emulator speaks nothing else.
    throw new GuardError(
      "BAD_ARGUMENT",
      `bad ${endpoint.from} "${endpoint.value}": expected an https:// URL such as https://127.0.0.1:8443.`,
    );
  }
  const caFile: Setting | undefined =
    options.caFile !== undefined ? { value: options.caFile, from: "--ca-file" } : variables.caFile;
  let caCertPem: string | undefined;
  if (caFile !== undefined) {
    try {
      caCertPem = fs.readFileSync(caFile.value, "utf8");
    } catch (error) {
      throw new GuardError(
        "BAD_ARGUMENT",
        `cannot read the CA file ${caFile.value} (from ${caFile.from}): ${(error as Error).message}. ${WHERE_THE_CA_IS}.`,
      );
    }
  }
  const connection = armConnection(cloud, endpoint.value, caCertPem);
  const target: ArmTarget = {
    endpoint: connection.endpoint ?? endpoint.value,
    endpointFrom: endpoint.from,
    ...(caFile !== undefined ? { caFile } : {}),
    local: isLocalEndpoint(endpoint.value),
  };
  return { connection, target };
}

/**
 * Asks on the terminal. A layout migration is always asked for (a person approves it, as in the
 * app, whatever --yes says), unless --approve-migration says that person has read this plan.
 */
async function confirm(context: CliContext, plan: Plan): Promise<boolean> {
  const migration = plan.migration === undefined ? undefined : migrationReason(plan.migration);
  if (!process.stdin.isTTY) {
    throw new GuardError(
      "BAD_ARGUMENT",
      migration === undefined
        ? "--apply needs --yes when there is no terminal to ask on; nothing was written."
        : `this plan is a ${migration}: it needs a person's approval, and --yes alone does not give it. Read the plan and add --approve-migration, or run in a terminal; nothing was written.`,
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      migration === undefined
        ? "Apply this plan? Only the managed group is written. Type 'yes' to apply: "
        : `Apply this ${migration}? Only the managed group is written. Type 'yes' to apply: `,
    );
    return answer.trim().toLowerCase() === "yes";
  } finally {
    rl.close();
    context.io.err("");
  }
}

function needsAsking(options: CheckOptions, plan: Plan): boolean {
  return plan.migration !== undefined ? !options.approveMigration : !options.yes;
}

/** What `--cluster` found: the cluster, where its routes lead, and the policy to check. */
interface ClusterPath {
  facts: ClusterFacts;
  egress: ClusterEgress;
  findings: Finding[];
  policyId?: string;
  /** Where the policy came from. */
  from?: "tag" | "routes";
}

/**
 * The cluster's egress path, as a pass follows it (issue 13): its pools' subnets (one network list per
 * subscription they are in, or their own GET), then route tables, hubs and firewalls in bulk, over the
 * cluster's subscription, the subnets' and route tables' subscriptions, those of the networks peered
 * with the cluster's (hub networks), the tag's policy's and any --subscription. The policy to check is the tag's when there is one (the tag overrides), otherwise
 * the one the routes lead to; with neither there is nothing to check.
 */
async function followCluster(
  connection: ArmConnection,
  options: CheckOptions,
  settings: PassSettings,
): Promise<ClusterPath> {
  const clusterId = options.cluster ?? "";
  parseResourceId(clusterId, MANAGED_CLUSTER_TYPE);
  const facts = await readCluster(connection, clusterId);
  if (facts === undefined)
    throw new GuardError(
      "CLUSTER_NOT_FOUND",
      `cluster ${clusterId} does not exist (or is not visible to this identity).`,
    );
  const { firewallPolicyId } = profileFromFacts(facts, [], { cloud: settings.cloud, defaultFeatures: [] });
  const subscriptionOf = (id: string) => id.split("/")[2]?.toLowerCase() ?? "";
  const subnetIds = facts.agentPools.flatMap((p) => (p.vnetSubnetId ? [p.vnetSubnetId] : []));
  const source = subnetsByNetworkList(connection, subnetIds.map(subscriptionOf));
  await source.prefetch(subnetIds);
  const subnets: Record<string, SubnetFacts> = {};
  for (const id of subnetIds) {
    try {
      subnets[id.toLowerCase()] = await source.subnet(id);
    } catch (error) {
      // Not readable: the path stops at the subnet, and says so.
      if (!(isRestError(error) && (error.statusCode === 403 || error.statusCode === 404))) throw error;
    }
  }
  const networks = await source.networks();
  const subscriptions = [
    subscriptionOf(facts.id),
    ...options.subscription,
    ...subnetIds.map(subscriptionOf),
    ...Object.values(subnets).flatMap((s) => (s.routeTableId ? [subscriptionOf(s.routeTableId)] : [])),
    ...(firewallPolicyId ? [subscriptionOf(firewallPolicyId)] : []),
    // A hub network peered with the cluster's: its firewall is often in a subscription of its own.
    ...Object.values(networks).flatMap((n) => n.peeredNetworkIds.map(subscriptionOf)),
  ];
  // Tagged: the tag's policy is the one in scope. Untagged: whichever policy the routes lead to is
  // the one to check, so every policy counts as in scope.
  const first = await readEgress(connection, [facts], subnets, {
    subscriptions,
    policiesInScope: firewallPolicyId ? [firewallPolicyId] : [],
    virtualNetworks: networks,
  });
  let egress = first.egress[0] as ClusterEgress;
  if (firewallPolicyId === undefined && egress.routedPolicyId !== undefined) {
    egress = {
      ...egress,
      routedPolicyInScope: true,
      findings: egress.findings.filter((f) => f.code !== "FIREWALL_POLICY_NOT_IN_SCOPE"),
    };
  }
  const disagreement = firewallPolicyId ? tagDisagreement(facts, firewallPolicyId, egress) : undefined;
  const policyId = firewallPolicyId ?? egress.routedPolicyId;
  return {
    facts,
    egress,
    findings: [...(disagreement ? [disagreement] : []), ...egress.findings],
    ...(policyId ? { policyId, from: firewallPolicyId ? ("tag" as const) : ("routes" as const) } : {}),
  };
}

/** The path as `check --cluster` prints it, ahead of the plan. */
export function formatClusterPath(path: ClusterPath): string {
  const lines = ["Egress path:", ...formatClusterEgress(path.egress).map((l) => `  ${l}`)];
  if (path.findings.length > 0)
    lines.push("Route findings:", ...path.findings.map((f) => `  ${f.severity} ${f.code}: ${f.message}`));
  lines.push(
    path.policyId === undefined
      ? "Policy: none (no aks-egress-guard/firewall-policy tag, and its routes lead to no single firewall policy)."
      : `Policy: ${path.policyId} (${path.from === "tag" ? "from its aks-egress-guard/firewall-policy tag" : "from its routes"}).`,
  );
  return lines.join("\n");
}

function summary(plan: Plan, extra: Record<string, unknown> = {}) {
  return { ...plan, ...extra };
}

export function registerCheckCommand(program: Command, context: CliContext): void {
  program
    .command("check")
    .description("compare a firewall policy with what its clusters need; show the plan; optionally apply it")
    .option(
      "--cluster <id>",
      "an AKS cluster resource ID: prints the path its egress follows (subnet → route table → next hop → firewall → policy), then checks the policy its aks-egress-guard/firewall-policy tag names, or else the one its routes lead to",
    )
    .option("--firewall-policy <id>", "a firewall policy resource ID")
    .option("--apply", "apply the plan after showing it (asks unless --yes)", false)
    .option("--yes", "do not ask before applying (a layout migration is still asked for)", false)
    .option(
      "--approve-migration",
      "with --apply: a person has read this plan and approves moving a per-cluster group to the shared layout",
      false,
    )
    .option(
      "--endpoint <url>",
      `ARM endpoint (default: $${ENDPOINT_VARIABLE}, else the cloud's; the emulator's for local runs)`,
    )
    .option(
      "--ca-file <pem>",
      `extra CA to trust for the endpoint (default: $${CA_FILE_VARIABLE}; the emulator prints it)`,
    )
    .option("--cloud <cloud>", "AzureCloud, AzureChinaCloud or AzureUSGovernment", "AzureCloud")
    .option(
      "--subscription <id>",
      "another subscription whose clusters may use the policy (repeatable)",
      collect,
      [],
    )
    .option("--catalog <version>", "catalog version", DEFAULT_CATALOG_VERSION)
    .option("--group-name <name>", "the app's rule collection group", "aks-egress-guard")
    .option("--group-priority <n>", "its priority (100-65000)", "300")
    .option(
      "--default-features <list>",
      "features no cluster shows, e.g. ubuntu-updates (comma-separated)",
      collect,
      [],
    )
    .option(
      "--allow-any-source",
      "allow * as source for clusters whose subnets cannot be read (not recommended)",
      false,
    )
    .option(
      "--resolver <ip[:port]>",
      `a DNS server for public API server addresses (repeatable; default: $${RESOLVERS_VARIABLE}, else the host's)`,
      collect,
      [],
    )
    .option(
      "--include-untagged",
      "this is the default policy: it also serves clusters with no policy tag",
      false,
    )
    .addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table"))
    .addHelpText(
      "after",
      `
Exit codes: 0 no drift (or drift applied and verified), 2 drift found, 1 error.
Examples:
  aks-egress check --firewall-policy /subscriptions/…/resourceGroups/net/providers/Microsoft.Network/firewallPolicies/fw-policy
  aks-egress check --cluster /subscriptions/…/managedClusters/aks-prod --apply
  aks-egress check --firewall-policy … --endpoint https://127.0.0.1:8443 --ca-file /tmp/arm-emulator-ca.pem
Environment: ${ENDPOINT_VARIABLE} and ${CA_FILE_VARIABLE} (the app's names) stand for --endpoint and --ca-file.`,
    )
    .action(async (options: CheckOptions) => {
      if ((options.cluster === undefined) === (options.firewallPolicy === undefined)) {
        throw new GuardError("BAD_ARGUMENT", "give exactly one of --cluster ID or --firewall-policy ID.");
      }
      const { connection, target } = connectionFrom(options, context);
      try {
        await runCheck(context, options, connection);
      } catch (error) {
        const described = describeArmFailure(error, target);
        if (described === undefined) throw error;
        // A GuardError says what was being done (and whether anything was written): keep it first.
        const doing = isGuardError(error) ? `${error.message.replace(/\.?$/, ".")} ` : "";
        throw new GuardError("ARM_REQUEST_FAILED", `${doing}${described}`, { cause: error });
      }
    });
}

/** Plan, show, and (asked to) apply: everything `check` does once connected. */
async function runCheck(
  context: CliContext,
  options: CheckOptions,
  connection: ArmConnection,
): Promise<void> {
  const settings: PassSettings = {
    cloud: connection.cloud,
    groupName: options.groupName,
    groupPriority: parseGroupPriority(options.groupPriority),
    catalogVersion: loadCatalog(options.catalog).version,
    allowAnySource: options.allowAnySource,
    subscriptions: options.subscription,
    includeUntaggedWhenDefault: options.includeUntagged,
    ...(options.includeUntagged && options.firewallPolicy ? { defaultPolicyId: options.firewallPolicy } : {}),
    defaultFeatures: parseFeatures(options.defaultFeatures),
    resolvers: resolversFrom(options),
  };
  let policyId = options.firewallPolicy;
  let path: ClusterPath | undefined;
  if (policyId !== undefined) {
    parseResourceId(policyId, FIREWALL_POLICY_TYPE);
  } else {
    path = await followCluster(connection, options, settings);
    if (options.format !== "json") context.io.out(`${formatClusterPath(path)}\n\n`);
    if (path.policyId === undefined) {
      if (options.format === "json")
        context.io.out(`${JSON.stringify({ egress: path.egress, findings: path.findings }, null, 2)}\n`);
      throw new GuardError(
        "BAD_ARGUMENT",
        `cluster ${path.facts.name} has no valid aks-egress-guard/firewall-policy tag and its routes lead to no single firewall policy; pass --firewall-policy ID as well.`,
      );
    }
    policyId = path.policyId;
    // The cluster's own subscription is read too, wherever the policy lives.
    settings.subscriptions = [...settings.subscriptions, path.facts.id.split("/")[2] ?? ""];
    settings.policiesInScope = [policyId];
  }
  const checked = await checkPolicy(connection, policyId, settings);
  let { plan } = checked;
  const profile =
    path && checked.gathered.clusters.find((c) => c.id.toLowerCase() === path.facts.id.toLowerCase());
  const parameters = profile && formatClusterParameters(profile);
  if (parameters !== undefined && options.format !== "json") context.io.out(`${parameters}\n\n`);
  const egressOf = path
    ? { egress: path.egress, ...(profile ? { parameters: profile.parameters } : {}) }
    : {};
  const show = (p: Plan) => (options.format === "json" ? undefined : context.io.out(`${formatPlan(p)}\n`));
  show(plan);

  if (plan.action === "none" || !options.apply) {
    if (options.format === "json")
      context.io.out(`${JSON.stringify(summary(plan, { applied: false, ...egressOf }), null, 2)}\n`);
    context.exitCode = plan.action === "none" ? CHECK_EXIT.noDrift : CHECK_EXIT.drift;
    return;
  }
  if (needsAsking(options, plan) && !(await confirm(context, plan))) {
    context.io.err("Not applied.\n");
    context.exitCode = CHECK_EXIT.drift;
    return;
  }
  // A 412 means the group changed since it was read: re-read, re-plan, show it, and try again.
  for (let attempt = 1; ; attempt++) {
    try {
      // The write goes ahead only while the group still is what this plan was made from.
      const result = await applyPlan(connection, policyId, plan, settings);
      if (options.format === "json") {
        context.io.out(
          `${JSON.stringify(summary(plan, { applied: true, writes: result.writes, converged: result.converged, after: result.after, ...egressOf }), null, 2)}\n`,
        );
      } else if (result.converged) {
        context.io.out(`Applied with ${result.writes} write. A fresh read shows no drift.\n`);
      } else {
        context.io.out(
          `Applied with ${result.writes} write, but a fresh read shows drift again:\n${formatPlan(result.after)}\n`,
        );
      }
      context.exitCode = result.converged ? CHECK_EXIT.noDrift : CHECK_EXIT.drift;
      return;
    } catch (error) {
      if (!isGuardError(error, "ARM_PRECONDITION_FAILED") || attempt >= 3) throw error;
      context.io.err("The managed group changed since it was read; re-reading and re-planning.\n");
      ({ plan } = await checkPolicy(connection, policyId, settings));
      show(plan);
      if (plan.action === "none") {
        context.exitCode = CHECK_EXIT.noDrift;
        return;
      }
      if (needsAsking(options, plan) && !(await confirm(context, plan))) {
        context.io.err("Not applied.\n");
        context.exitCode = CHECK_EXIT.drift;
        return;
      }
    }
  }
}
