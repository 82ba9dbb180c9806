// The approval page: what a reviewer needs to decide, from the top down. The risk first (what is
// removed, what triggered the plan), then per cluster what it gains and loses and why (the catalog
// entry: feature, table and line of Microsoft's page), then the rules as written to the managed group,
// the findings, and the form. Plain HTML: no script, nothing loaded from elsewhere.
import type { Catalog, Cloud } from "../../catalog";
import { FOREIGN_RULE, LAYOUT_MIGRATION } from "../../drift/diff";
import { REGROUPED } from "../../drift/plan";
import type { Finding, ImpactGroup, ImpactItem, Plan, RuleBody, RuleChange } from "../../drift/types";
import type { PlanView } from "../../orchestrations/activities/handlers";
import type { ChangeReason, PendingApproval } from "../../orchestrations/reconciler";
import { html, percent, type SafeHtml } from "./html";
import { catalogOrigin, reasonsFor } from "./why";

export interface ApprovalPageInput {
  policyId: string;
  pending: PendingApproval;
  /** What started the pass (the reconciler's status keeps the first few; reasonCount is exact). */
  trigger: { reasons: readonly ChangeReason[]; reasonCount: number };
  view: PlanView;
  /** The form posts here (the same link, token included). */
  formAction: string;
  cloud: Cloud;
  approverAuth: "none" | "appservice";
}

/** Tables longer than this show the first rows and say how many more the plan text holds. */
export const ROWS_SHOWN = 300;
/** A rule's sources are listed in full; past this many, inside a disclosure that opens without script. */
const SOURCES_INLINE = 8;

const MARK: Readonly<Record<RuleChange["kind"], string>> = {
  add: "+ add",
  remove: "− remove",
  modify: "~ change",
};

export function approvalPage(input: ApprovalPageInput): SafeHtml {
  const { view, pending } = input;
  const decidable = view.state === "current";
  return html`<h1>Firewall change waiting for a decision</h1>
${view.state === "current" ? riskSummary(input, view.plan, view) : notShown(view.text)}
<dl class="facts">
<dt>Firewall policy</dt><dd><code>${input.policyId}</code></dd>
${view.state === "current" ? html`<dt>Managed group</dt><dd><code>${view.plan.groupName}</code>${view.plan.body ? ` (priority ${view.plan.body.priority})` : ""}</dd>` : ""}
<dt>Approval</dt><dd><code>${pending.approvalId}</code>, expires <time>${pending.expiresAt}</time></dd>
<dt>Change</dt><dd><code>${pending.changeHash}</code> (the decision binds to this exact change)</dd>
${view.state === "current" ? html`<dt>Requirements from</dt><dd>${catalogOrigin(view.catalog)}</dd>` : ""}
</dl>
${decidable ? decisionForm(input) : ""}
${view.state === "current" ? planSections(input, view) : ""}
${decidable ? html`<p class="muted">Opening this page decides nothing; only the buttons above do.</p>` : ""}`;
}

function notShown(text: string): SafeHtml {
  return html`<div class="summary warn" role="alert"><p><strong>The plan cannot be shown for this approval.</strong></p><p>${text}</p></div>`;
}

function riskSummary(
  input: ApprovalPageInput,
  plan: Plan,
  view: Extract<PlanView, { state: "current" }>,
): SafeHtml {
  const { added, changed, removed, removedShare, managedRulesBefore } = plan.risk;
  const perCluster = plan.clusterChanges;
  const more = input.trigger.reasonCount - input.trigger.reasons.length;
  return html`<section class="summary ${removed > 0 ? "warn" : ""}" aria-label="Risk summary">
<p><strong>${added} rule(s) to add, ${changed} to change, ${removed} to remove</strong>${
    managedRulesBefore > 0
      ? ` (${percent(removedShare)} of the ${managedRulesBefore} rule(s) in the managed group removed)`
      : " (the managed group is new or empty)"
  }.</p>
<p>${perCluster.clustersAffected} of ${perCluster.clusterCount} cluster(s) gain or lose access.</p>
<p>Asks a person because: ${input.pending.reasons.join("; ")}.</p>
<p>Triggered by: ${input.trigger.reasons.map((r) => `${r.detail} (${r.source})`).join("; ") || "a scheduled check"}${more > 0 ? ` and ${more} more` : ""}.</p>
${plan.migration ? html`<p>Layout: this write moves ${plan.migration.collections} per-cluster collection(s) to ${plan.migration.rules} shared rule(s).</p>` : ""}
${view.adoption ? html`<p>Catalog adoption: approving also adopts Microsoft's page of ${view.catalog.document.date} (${view.catalog.version}) in place of catalog ${view.adoption.replacing.version} for this policy; rejecting keeps catalog ${view.adoption.replacing.version}.</p>` : ""}
<p>Approving writes the whole managed group in one PUT; it counts only when Azure reports it succeeded. Rules outside the managed group are never changed.</p>
</section>`;
}

function decisionForm(input: ApprovalPageInput): SafeHtml {
  const who =
    input.approverAuth === "appservice"
      ? "You are signed in with Microsoft Entra ID; your name is recorded with the decision."
      : "Anyone holding this link can decide; the decision is recorded as the link holder's.";
  return html`<form method="post" action="${input.formAction}" aria-label="Decision">
<p><label for="comment">Comment, recorded with your decision (a change ticket, say)</label><br>
<textarea id="comment" name="comment" rows="2" maxlength="1000"></textarea></p>
<p class="muted">${who}</p>
<button type="submit" name="decision" value="approve">Approve and apply</button><button type="submit" name="decision" value="reject">Reject</button>
</form>`;
}

function planSections(input: ApprovalPageInput, view: Extract<PlanView, { state: "current" }>): SafeHtml {
  const { plan, catalog } = view;
  return html`<h2>Per cluster: what each gains and loses</h2>
${
  plan.clusterChanges.groups.length === 0
    ? html`<p>No cluster gains or loses access (the rules change in form only).</p>`
    : plan.clusterChanges.groups.map((g) => impactGroup(g, input.cloud, catalog, "plan"))
}
<h2>Rules written to the managed group</h2>
${ruleTable(plan)}
${plan.findings.length > 0 ? findingsTable(plan.findings) : ""}
${
  view.adoption
    ? html`<h2>Catalog adoption: ${view.adoption.replacing.version} → ${catalog.version}</h2>
<p>${view.adoption.impact.clustersAffected} of ${view.adoption.impact.clusterCount} cluster(s) affected. Each line names the entry of the page it comes from.</p>
${view.adoption.impact.groups.map((g) => impactGroup(g, input.cloud, catalog, "adoption"))}`
    : ""
}
<h2>The plan as text</h2>
<details><summary>Show the plan exactly as <code>aks-egress check</code> prints it (for a ticket)</summary><pre>${view.text}</pre></details>`;
}

function clusterNames(g: ImpactGroup): string {
  const more = g.clusterCount - g.clusters.length;
  return `${g.clusters.join(", ")}${more > 0 ? ` and ${more} more` : ""}`;
}

function impactGroup(g: ImpactGroup, cloud: Cloud, catalog: Catalog, kind: "plan" | "adoption"): SafeHtml {
  const rows = [
    ...g.gains.map((item) => ({ item, change: "add" as const })),
    ...g.losses.map((item) => ({ item, change: "remove" as const })),
  ];
  return html`<section class="cluster-group">
<h3>${g.clusterCount} cluster(s) in ${g.region}, features ${g.features.join(", ")}</h3>
<p>Clusters: <span class="mono">${clusterNames(g)}</span></p>
<table><colgroup><col class="kind"><col class="mid"><col class="ports"><col></colgroup>
<thead><tr><th>Change</th><th>Destination</th><th>Ports</th><th>Why</th></tr></thead><tbody>
${rows
  .slice(0, ROWS_SHOWN)
  .map(
    ({ item, change }) =>
      html`<tr class="${change}"><td class="kind">${change === "add" ? "+ gains" : "− loses"}</td><td><code>${item.destination}</code></td><td><code>${item.ports}</code></td><td>${
        kind === "adoption" ? adoptionWhy(item, change) : planWhy(item, change, cloud, g.region, catalog)
      }</td></tr>`,
  )}
</tbody></table>${rows.length > ROWS_SHOWN ? html`<p>and ${rows.length - ROWS_SHOWN} more (see the plan as text).</p>` : ""}
</section>`;
}

function planWhy(
  item: ImpactItem,
  change: "add" | "remove",
  cloud: Cloud,
  region: string,
  catalog: Catalog,
): SafeHtml {
  const reasons = change === "add" ? reasonsFor(catalog, cloud, region, item) : [];
  if (change === "remove")
    return html`Not needed by these clusters any more: catalog ${catalog.version} asks for it for none of their features in ${region}${item.feature ? ` (it was there for ${item.feature})` : ""}.`;
  if (reasons.length === 0)
    return html`${item.feature || "base"}: ${catalogOrigin(catalog)} (no single entry of the page names this destination; it comes from a parameter or a rendered alternative).`;
  return html`${reasons.map(
    (r, i) =>
      html`${i > 0 ? html`<br>` : ""}<strong>${r.feature}</strong>: ${r.purpose} <span class="muted">(catalog ${catalog.version}, page of ${catalog.document.date}: “${r.where}”${r.line !== undefined ? `, line ${r.line}` : ""})</span>`,
  )}`;
}

function adoptionWhy(item: ImpactItem, change: "add" | "remove"): SafeHtml {
  return html`${item.feature}: ${change === "add" ? "the new page asks for it" : "only the old page asked for it"}${item.source ? html` <span class="muted">(${change === "remove" ? "was " : ""}${item.source})</span>` : ""}`;
}

/** Why a rule goes, in the words a reviewer uses (the plan text keeps the engine's own). */
function removalWhy(reason: string | undefined): string {
  if (reason === undefined || reason === "no served cluster needs exactly this any more")
    return "not needed by any cluster (no served cluster needs exactly this any more)";
  if (reason === FOREIGN_RULE) return "added by hand inside the managed group (the app owns the whole group)";
  if (reason.endsWith(REGROUPED))
    return `regrouped: everything it allows stays allowed by the rules written${reason.startsWith(LAYOUT_MIGRATION) ? " (per-cluster layout moving to shared rules)" : ""}`;
  return reason;
}

function ruleIn(plan: Plan, change: RuleChange): RuleBody | undefined {
  const collection = plan.body?.ruleCollections.find(
    (c) => c.name.toLowerCase() === change.collection.toLowerCase(),
  );
  return collection?.rules?.find((r) => r.name === change.rule);
}

function list(values: unknown): string[] {
  return Array.isArray(values) ? values.filter((v): v is string => typeof v === "string") : [];
}

/** What a rule to be written allows: protocol and port, every destination, every source. */
function allows(rule: RuleBody | undefined): SafeHtml {
  if (rule === undefined) return html``;
  const r = rule as Record<string, unknown>;
  const protocols =
    rule.ruleType === "ApplicationRule"
      ? (Array.isArray(r.protocols) ? r.protocols : []).map(
          (p: { protocolType?: string; port?: number }) => `${p.protocolType}:${p.port}`,
        )
      : list(r.ipProtocols).flatMap((p) => list(r.destinationPorts).map((port) => `${p}:${port}`));
  const destinations = [...list(r.targetFqdns), ...list(r.destinationAddresses), ...list(r.destinationFqdns)];
  const sources = list(r.sourceAddresses);
  const sourceList = html`<code>${sources.join(", ")}</code>`;
  return html`<code>${protocols.join(", ")}</code> to <code>${destinations.join(", ")}</code><br>from ${
    sources.length <= SOURCES_INLINE
      ? sourceList
      : html`<details><summary>${sources.length} node subnets</summary>${sourceList}</details>`
  }`;
}

function ruleTable(plan: Plan): SafeHtml {
  if (plan.changes.length === 0) return html`<p>No rule changes.</p>`;
  const rows = plan.changes.slice(0, ROWS_SHOWN).map((change) => {
    const what =
      change.rule === ""
        ? change.collection === ""
          ? `group ${plan.groupName}`
          : `collection ${change.collection}`
        : `${change.collection} / ${change.rule}`;
    const rule = change.kind === "remove" ? undefined : ruleIn(plan, change);
    const why =
      change.kind === "remove"
        ? html`${removalWhy(change.reason)}${change.clusterId ? html` <span class="muted">(cluster <code>${change.clusterId}</code>)</span>` : ""}`
        : html`${rule?.description ?? change.reason ?? ""}${
            change.fields?.length
              ? html`<ul>${change.fields.map((f) => html`<li><code>${f}</code></li>`)}</ul>`
              : ""
          }`;
    return html`<tr class="${change.kind}"><td class="kind">${MARK[change.kind]}</td><td><code>${what}</code></td><td>${allows(rule)}</td><td>${why}</td></tr>`;
  });
  return html`<table><colgroup><col class="kind"><col class="mid"><col class="wide"><col></colgroup><thead><tr><th>Change</th><th>Collection / rule</th><th>Allows</th><th>Why</th></tr></thead><tbody>${rows}</tbody></table>${
    plan.changes.length > ROWS_SHOWN
      ? html`<p>and ${plan.changes.length - ROWS_SHOWN} more change(s) (see the plan as text).</p>`
      : ""
  }`;
}

function findingsTable(findings: readonly Finding[]): SafeHtml {
  return html`<h2>Findings</h2>
<table><colgroup><col class="kind"><col class="code"><col class="mid"><col></colgroup><thead><tr><th>Severity</th><th>Code</th><th>Where</th><th>What</th></tr></thead><tbody>
${findings
  .slice(0, ROWS_SHOWN)
  .map(
    (f) =>
      html`<tr><td>${f.severity}</td><td><code>${f.code}</code></td><td><code>${[f.clusterId, f.location].filter(Boolean).join(" ")}</code></td><td>${f.message}</td></tr>`,
  )}
</tbody></table>${findings.length > ROWS_SHOWN ? html`<p>and ${findings.length - ROWS_SHOWN} more finding(s) (see the plan as text).</p>` : ""}`;
}
