// What a browser sees after a decision, or when a link can no longer decide: each page says what
// happened, what did not, and where to look next. API clients get the same facts as JSON.
import type { DecisionTaken, PassRecord } from "../../orchestrations/reconciler";
import { html, type SafeHtml } from "./html";

/** Where the outcome shows: the estate page and the policy's status (both need the function key). */
export interface WatchLinks {
  estate: string;
  status: string;
}

function watch(links: WatchLinks): SafeHtml {
  return html`<p>The outcome shows on the estate page <code>${links.estate}</code> and in the policy's status <code>${links.status}</code> (both need the app's function key or a signed-in operator), and in Application Insights as <code>AksEgressGuard.PlanApplied</code> and <code>AksEgressGuard.PassCompleted</code>.</p>`;
}

function decisionFacts(d: DecisionTaken): SafeHtml {
  return html`<dl class="facts">
<dt>Decision</dt><dd>${d.decision === "approve" ? "approved" : "rejected"}</dd>
<dt>By</dt><dd>${d.approver}</dd>
<dt>At</dt><dd><time>${d.at}</time></dd>
<dt>Comment</dt><dd>${d.comment ? d.comment : html`<span class="muted">(none)</span>`}</dd>
<dt>Approval</dt><dd><code>${d.approvalId}</code></dd>
</dl>`;
}

/** The caller's own decision took effect. */
export function decidedPage(d: DecisionTaken, links: WatchLinks): SafeHtml {
  const next =
    d.decision === "approve"
      ? html`<p>The change is being written now, in one PUT of the managed group. It counts only when Azure reports the write <code>Succeeded</code>; if the group moved meanwhile, nothing is written and a new plan asks again.</p>`
      : html`<p>Nothing will be written for this change. The drift stays reported; a later change to the clusters or the policy plans afresh.</p>`;
  return html`<h1>${d.decision === "approve" ? "Approved: the change is being written" : "Rejected: nothing will be written"}</h1>
<div class="summary ok" role="status"><p>Your decision took effect.</p></div>
${decisionFacts(d)}${next}${watch(links)}`;
}

/** Someone else's decision took effect first (or this link was used before). */
export function alreadyDecidedPage(d: DecisionTaken, links: WatchLinks): SafeHtml {
  return html`<h1>Already decided</h1>
<div class="summary warn" role="alert"><p>This approval was decided before your request; your decision did not take effect.</p></div>
${decisionFacts(d)}${watch(links)}`;
}

/** The decision reached the reconciler, which has not yet said whether it took effect. */
export function receivedPage(decision: string, approvalId: string, links: WatchLinks): SafeHtml {
  return html`<h1>Decision received</h1>
<div class="summary" role="status"><p>Your decision (${decision}) for approval <code>${approvalId}</code> was received; whether it took effect is not known yet (another person may have decided at the same moment). Do not send it again.</p></div>
${watch(links)}`;
}

/** The approval is over: expired, superseded by a newer plan, or its reconciler ended. */
export function gonePage(last: PassRecord | undefined, links: WatchLinks): SafeHtml {
  const what =
    last?.outcome === "expired"
      ? "It expired: nobody decided in time, so nothing was written. The next change, or the scheduled check, asks again with a new link."
      : last?.outcome === "superseded"
        ? "It was superseded: the managed group or the clusters changed before a decision, so its plan no longer holds. A new approval with a new link was asked for."
        : "It expired, or the change moved and a new plan replaced it (the new approval has a new link).";
  return html`<h1>This approval is no longer pending</h1>
<div class="summary warn" role="alert"><p>${what}</p><p>Nothing was decided with this link.</p></div>
${last ? html`<p>The policy's last pass: <strong>${last.outcome}</strong> at <time>${last.completedAt}</time>: ${last.summary}</p>` : ""}
${watch(links)}`;
}

/** The link itself is not valid: forged, altered, for another approval, or past its expiry. */
export function refusedPage(reason: string): SafeHtml {
  return html`<h1>This approval link is not valid</h1>
<div class="summary warn" role="alert"><p>${reason}</p><p>Nothing was shown or decided. Use the link exactly as it was sent; a link that was altered, cut short, or is past its expiry cannot decide.</p></div>`;
}

/** Deciding needs a signed-in person when App Service Authentication fronts approvals. */
export function signInPage(): SafeHtml {
  return html`<h1>Sign in to decide</h1>
<div class="summary warn" role="alert"><p>App Service Authentication fronts approvals, and no signed-in user came with this request. Open the link again in a browser signed in with your Microsoft Entra ID account. Nothing was decided.</p></div>`;
}

/** The form was sent without a decision (or with a comment that is too long). */
export function badDecisionPage(message: string): SafeHtml {
  return html`<h1>The decision could not be read</h1>
<div class="summary warn" role="alert"><p>${message}</p><p>Nothing was decided. Go back, and press Approve or Reject.</p></div>`;
}
