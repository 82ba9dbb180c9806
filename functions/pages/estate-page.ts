// The estate page: every policy in scope, its clusters, its reconciler's phase, drift, pending approval
// (never its link) and recent passes with their decisions. Pure: the view in, markup out; every value
// from Azure or from people goes through `html`'s escaping.
import type {
  ChangeReason,
  DecisionTaken,
  PassRecord,
  ReconcilerStatus,
} from "../../orchestrations/reconciler";
import type { EstateCluster, PolicyClusters } from "../http/estate-clusters";
import { html, type SafeHtml } from "./html";

/** The page lists this many clusters per policy; the JSON twin lists every one. */
export const CLUSTERS_SHOWN = 100;

export interface DriftNow {
  state: "none" | "drift" | "unknown";
  summary: string;
}

export interface EstateApproval {
  approvalId: string;
  expiresAt: string;
  reasons: string[];
  summary: string;
  /** Who may decide, in words: the link itself is never shown. */
  whoCanDecide: string;
}

export interface EstatePolicy {
  policyId: string;
  name: string;
  instanceId: string;
  /**
   * Durable's runtime status (Running, Pending, Completed, Failed, Terminated…); NotStarted when no
   * instance exists yet; Unknown when it could not be read (statusError says why).
   */
  runtimeStatus: string;
  statusError?: string;
  lastUpdated?: string;
  phase?: ReconcilerStatus["phase"];
  /** The pass running or next to run. */
  pass?: number;
  /** Why the running pass runs: the first reasons, and how many there are. */
  reasons?: ChangeReason[];
  reasonCount?: number;
  drift: DriftNow;
  /** The plan the running pass works on (planning, awaiting approval, applying). */
  plan?: ReconcilerStatus["plan"];
  pendingApproval?: EstateApproval;
  /** The decision the running pass is applying. */
  decided?: DecisionTaken;
  last?: PassRecord;
  /** The last passes, newest first (the last one included). */
  recent: PassRecord[];
  clusters: PolicyClusters;
}

export interface EstateView {
  generatedAt: string;
  /** The app's remediation mode (clusters may override it by tag). */
  mode: string;
  policies: EstatePolicy[];
}

const PHASE_WORDS: Record<ReconcilerStatus["phase"], string> = {
  idle: "idle: waiting for a change",
  debouncing: "collecting changes before the next pass",
  planning: "planning",
  "awaiting-approval": "waiting for a person's approval",
  applying: "writing the change",
};

const OUTCOME_CLASS: Partial<Record<PassRecord["outcome"], string>> = {
  applied: "add",
  "no-drift": "add",
  rejected: "remove",
  failed: "remove",
  "not-converged": "remove",
  expired: "modify",
  superseded: "modify",
  reported: "modify",
};

function reconcilerFacts(p: EstatePolicy): SafeHtml {
  const state =
    p.runtimeStatus === "NotStarted"
      ? html`not started: no event, sweep or reconcile has reached this policy yet`
      : p.runtimeStatus === "Unknown"
        ? html`<strong>could not be read</strong>: ${p.statusError ?? "no reason given"}`
        : html`${p.runtimeStatus}${p.phase ? html`, ${PHASE_WORDS[p.phase]}` : ""}`;
  const reasons =
    p.reasonCount && p.reasonCount > 0 && p.phase !== "idle"
      ? html`<dt>Why this pass</dt><dd>${p.reasonCount} reason(s)${(p.reasons ?? []).length > 0 ? html`, first: ${(p.reasons ?? []).map((r, i) => html`${i > 0 ? "; " : ""}${r.source}: ${r.detail}`)}` : ""}</dd>`
      : "";
  return html`<dl class="facts">
<dt>Reconciler</dt><dd>${state}</dd>
${p.pass !== undefined ? html`<dt>Pass</dt><dd>${p.pass}</dd>` : ""}
${p.lastUpdated ? html`<dt>Updated</dt><dd><time>${p.lastUpdated}</time></dd>` : ""}
${reasons}
<dt>Drift now</dt><dd>${p.drift.state === "drift" ? html`<strong>${p.drift.summary}</strong>` : p.drift.summary}</dd>
${p.decided ? html`<dt>Being applied</dt><dd>${decision(p.decided)}</dd>` : ""}
</dl>`;
}

function approval(a: EstateApproval): SafeHtml {
  return html`<div class="summary warn" role="status">
<h3>Waiting for approval</h3>
<dl class="facts">
<dt>Approval</dt><dd><code>${a.approvalId}</code></dd>
<dt>Expires</dt><dd><time>${a.expiresAt}</time></dd>
<dt>Plan</dt><dd>${a.summary}</dd>
<dt>Why a person</dt><dd>${a.reasons.length === 0 ? "" : html`<ul>${a.reasons.map((r) => html`<li>${r}</li>`)}</ul>`}</dd>
<dt>Who can decide</dt><dd>${a.whoCanDecide}</dd>
</dl>
<p class="muted">The approval link is not shown here: only its holders can decide.</p>
</div>`;
}

function decision(d: DecisionTaken): SafeHtml {
  return html`${d.decision === "approve" ? "approved" : "rejected"} by <strong>${d.approver}</strong> at <time>${d.at}</time>${d.comment ? html`: “${d.comment}”` : html` <span class="muted">(no comment)</span>`}`;
}

/** How a cluster came to be this policy's, in words (a pass decides alike; drift/served.ts). */
const MAPPED_BY_WORDS: Record<EstateCluster["mappedBy"], string> = {
  tag: "its aks-egress-guard/firewall-policy tag names this policy",
  routes: "untagged, and its node subnets' routes lead to this policy's firewall",
  "managed group": "untagged, its routes name no policy, and this policy's managed group holds its rules",
  "untagged default":
    "untagged, its routes name no policy, and this is the default policy for untagged clusters",
};

function features(c: EstateCluster): SafeHtml {
  return c.features.length === 0 ? html`<span class="muted">none</span>` : html`${c.features.join(", ")}`;
}

function clusters(p: EstatePolicy): SafeHtml {
  const c = p.clusters;
  if (!c.read)
    return html`<div class="summary warn" role="alert"><p><strong>The clusters could not be read from Azure:</strong> ${c.error}.</p>
<p>The rest of this policy's section comes from its reconciler's status, which does not need Azure.</p></div>`;
  if (c.count === 0) return html`<p class="muted">No cluster is served by this policy now.</p>`;
  const shown = c.clusters.slice(0, CLUSTERS_SHOWN);
  const more = c.count - shown.length;
  return html`<table><colgroup><col class="mid"><col class="code"><col><col><col class="kind"><col class="kind"><col class="kind"></colgroup><thead><tr><th>Cluster</th><th>Resource group</th><th>Region</th><th>Features</th><th>Mode</th><th>Node subnets</th><th>Mapped by</th></tr></thead>
<tbody>${shown.map(
    (k) =>
      html`<tr><td><span class="mono">${k.name}</span></td><td><span class="mono">${k.resourceGroup}</span></td><td>${k.region}</td><td>${features(k)}</td><td>${k.mode ?? html`<span class="muted">(app's)</span>`}</td><td>${k.nodeSubnets}</td><td class="kind" title="${MAPPED_BY_WORDS[k.mappedBy]}">${k.mappedBy}</td></tr>`,
  )}</tbody></table>
${more > 0 ? html`<p>and ${more} more: ${c.count} clusters in all (the JSON twin lists every one).</p>` : html`<p class="muted">${c.count} cluster(s).</p>`}`;
}

function passes(p: EstatePolicy): SafeHtml {
  if (p.recent.length === 0) return html`<p class="muted">No pass has completed yet.</p>`;
  return html`<table><colgroup><col class="kind"><col class="code"><col class="kind"><col class="kind"><col class="kind"><col><col></colgroup><thead><tr><th>Pass</th><th>Completed</th><th>Outcome</th><th>Changes</th><th>Clusters</th><th>Summary</th><th>Decision</th></tr></thead>
<tbody>${p.recent.map(
    (r) =>
      html`<tr class="${OUTCOME_CLASS[r.outcome] ?? ""}"><td>${r.pass}</td><td><time>${r.completedAt}</time></td><td class="kind">${r.outcome}</td><td>${r.changes}</td><td>${r.clusterCount}</td><td>${r.summary}${r.catalog ? html` <span class="muted">(catalog ${r.catalog})</span>` : ""}</td><td>${r.decision ? decision(r.decision) : r.approver ? html`by <strong>${r.approver}</strong>` : html`<span class="muted">none</span>`}</td></tr>`,
  )}</tbody></table>`;
}

function policy(p: EstatePolicy): SafeHtml {
  return html`<section>
<h2>${p.name}</h2>
<p class="muted"><code>${p.policyId}</code></p>
${reconcilerFacts(p)}
${p.pendingApproval ? approval(p.pendingApproval) : ""}
<h3>Clusters</h3>
${clusters(p)}
<h3>Recent passes</h3>
${passes(p)}
</section>`;
}

export function estatePage(view: EstateView): SafeHtml {
  const waiting = view.policies.filter((p) => p.pendingApproval).length;
  return html`<h1>Egress estate</h1>
<dl class="facts">
<dt>As of</dt><dd><time>${view.generatedAt}</time></dd>
<dt>Policies in scope</dt><dd>${view.policies.length}</dd>
<dt>Mode</dt><dd>${view.mode} <span class="muted">(a cluster's mode tag overrides it)</span></dd>
<dt>Waiting for approval</dt><dd>${waiting}</dd>
</dl>
<p class="muted">Read-only. Clusters are read from Azure now; phases, drift, approvals and passes come from each policy's reconciler. The same as JSON: add <code>format=json</code> to this address, or ask for <code>Accept: application/json</code>.</p>
${view.policies.map(policy)}`;
}
