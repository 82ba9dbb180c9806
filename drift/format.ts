// A plan as text people read and paste into a ticket: like `terraform plan`, plain, no colours.
import { impactGroupLines } from "./catalog-impact";
import { migrationReason } from "./decision";
import { displayValue } from "./diff";
import type { Finding, Plan, RuleBody, RuleChange } from "./types";

const MARK: Readonly<Record<RuleChange["kind"], string>> = { add: "+", remove: "-", modify: "~" };

/** "12.5", "100", "0": one decimal at most. */
function percent(share: number): string {
  return String(Math.round(share * 1000) / 10);
}

/** A finding as a short block: severity and code, then where, then what. */
function findingLines(f: Finding): string[] {
  return [
    `  [${f.severity}] ${f.code}`,
    ...(f.clusterId === undefined ? [] : [`      cluster: ${f.clusterId}`]),
    ...(f.location === undefined ? [] : [`      at: ${f.location}`]),
    `      ${f.message}`,
  ];
}

/** What an added rule lets through, e.g. "Https:443 to mcr.microsoft.com from 10.1.0.0/22". */
function ruleSummary(rule: RuleBody | undefined): string {
  if (rule === undefined) return "";
  const field = (name: string) =>
    displayValue((rule as Readonly<Record<string, Parameters<typeof displayValue>[0]>>)[name]);
  const from = `from ${field("sourceAddresses")}`;
  if (rule.ruleType === "ApplicationRule")
    return `: ${field("protocols")} to ${field("targetFqdns")} ${from}`;
  if (rule.ruleType === "NetworkRule") {
    const to = [field("destinationAddresses"), field("destinationFqdns")]
      .filter((t) => t !== "(none)")
      .join(",");
    return `: ${field("ipProtocols")}:${field("destinationPorts")} to ${to || "(none)"} ${from}`;
  }
  return "";
}

/** Changes grouped by collection, in the plan's order (which is by priority). */
function byCollection(changes: readonly RuleChange[]): Map<string, RuleChange[]> {
  const groups = new Map<string, RuleChange[]>();
  for (const change of changes) {
    const list = groups.get(change.collection) ?? [];
    list.push(change);
    groups.set(change.collection, list);
  }
  return groups;
}

function changeLines(plan: Plan): string[] {
  const lines: string[] = [];
  for (const [name, changes] of byCollection(plan.changes)) {
    if (name === "") {
      for (const change of changes) {
        lines.push(`  ~ group ${plan.groupName}`, ...(change.fields ?? []).map((f) => `      ${f}`));
      }
      continue;
    }
    const inBody = plan.body?.ruleCollections.find((c) => c.name.toLowerCase() === name.toLowerCase());
    const ruleChanges = changes.filter((c) => c.rule !== "");
    const mark =
      inBody === undefined
        ? "-"
        : ruleChanges.length > 0 &&
            ruleChanges.length === (inBody.rules?.length ?? 0) &&
            changes.every((c) => c.kind === "add")
          ? "+"
          : "~";
    const reasons = new Set(ruleChanges.map((c) => c.reason ?? ""));
    const sharedReason = mark === "-" && reasons.size === 1 ? [...reasons][0] : undefined;
    const settings =
      inBody === undefined
        ? ""
        : ` (priority ${inBody.priority ?? "none"}, ${inBody.action?.type ?? "no action"})`;
    const clusterId = changes[0]?.clusterId;
    // A stale collection's reason already names its cluster.
    const owner =
      clusterId === undefined || sharedReason?.includes(clusterId) === true ? "" : `, cluster ${clusterId}`;
    lines.push(`  ${mark} collection ${name}${settings}${owner}${sharedReason ? ` (${sharedReason})` : ""}`);
    for (const change of changes) {
      if (change.rule === "") {
        if (change.kind === "remove") lines[lines.length - 1] += change.reason ? ` (${change.reason})` : "";
        else lines.push(...(change.fields ?? []).map((f) => `      ${f}`));
        continue;
      }
      const reason = change.reason !== undefined && sharedReason === undefined ? `  (${change.reason})` : "";
      const added = change.kind === "add" ? inBody?.rules?.find((r) => r.name === change.rule) : undefined;
      lines.push(`      ${MARK[change.kind]} ${change.rule}${ruleSummary(added)}${reason}`);
      lines.push(...(change.fields ?? []).map((f) => `          ${f}`));
    }
  }
  return lines;
}

export function formatPlan(plan: Plan): string {
  const lines = [
    `Firewall policy: ${plan.policyId}`,
    `Rule collection group: ${plan.groupName}${plan.body === undefined ? "" : ` (priority ${plan.body.priority})`}`,
    `Action: ${plan.action === "put" ? "put (one PUT replaces the whole group)" : "none (no write)"}`,
    `Plan hash: ${plan.hash}`,
  ];
  if (plan.migration !== undefined)
    lines.push(
      "",
      `Layout: ${migrationReason(plan.migration)} (needs a person's approval, whatever the mode).`,
    );
  const perCluster = plan.clusterChanges;
  if (perCluster !== undefined && perCluster.clustersAffected > 0)
    lines.push(
      "",
      `Per cluster: ${perCluster.clustersAffected} of ${perCluster.clusterCount} cluster(s) gain or lose access.`,
      ...impactGroupLines(perCluster.groups).map((l) => (l === "" ? l : `  ${l}`)),
    );
  if (plan.changes.length > 0) lines.push("", "Changes:", ...changeLines(plan));
  if (plan.findings.length > 0) lines.push("", "Findings:", ...plan.findings.flatMap(findingLines));
  lines.push("");
  if (plan.action === "none") {
    lines.push("No changes. The managed group matches what the clusters need.");
  } else {
    const { added, changed, removed, removedShare } = plan.risk;
    lines.push(
      `Plan: ${added} to add, ${changed} to change, ${removed} to remove (${percent(removedShare)}% of managed rules).`,
    );
  }
  return `${lines.join("\n")}\n`;
}
