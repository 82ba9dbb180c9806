// The approval link: GET shows the plan and never decides (chat clients preview links); POST decides.
// The token proves the link was issued for this approval of this exact change and has not expired;
// the reconciler's status proves it is still pending (decided, expired and superseded ones are gone).
// A decision reaches the orchestrator with a proof only this endpoint can make; the orchestrator
// takes the first valid one, and every caller is told truthfully whether theirs was it.
import { randomUUID } from "node:crypto";
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import * as df from "durable-functions";
import { z } from "zod";
import { isGuardError } from "../errors";
import { currentPlanView } from "../orchestrations/activities/handlers";
import { type ApprovalClaims, decisionProof, verifyApprovalToken } from "../orchestrations/approval-token";
import {
  type ApprovalDecision,
  type DecisionTaken,
  EVENT_APPROVAL,
  type PendingApproval,
  type ReconcilerStatus,
} from "../orchestrations/reconciler";
import { appSettings } from "../orchestrations/settings";
import { approverFrom } from "./http/principal";
import { statusOf } from "./http/reconciler-status";
import { json } from "./http/responses";
import { approvalPage } from "./pages/approval-page";
import { htmlResponse, type SafeHtml, wantsHtml } from "./pages/html";
import {
  alreadyDecidedPage,
  badDecisionPage,
  decidedPage,
  gonePage,
  receivedPage,
  refusedPage,
  signInPage,
  type WatchLinks,
} from "./pages/result-pages";

/** A decision is a word and a comment; anything larger is not one. */
export const DECISION_BODY_MAX_BYTES = 16 * 1024;
/** How long a POST waits to learn whether its decision is the one that took effect. */
const OUTCOME_WAIT_MS = 10_000;

const decisionBody = z.object({
  decision: z.enum(["approve", "reject"], { message: 'decision must be "approve" or "reject"' }),
  comment: z.string().max(1000).optional(),
});

export { PAGE_SECURITY_HEADERS } from "./pages/html";

type Status = ReconcilerStatus | undefined;

function pendingIn(status: Status, claims: ApprovalClaims): PendingApproval | undefined {
  // While the reconciler re-plans during the wait, the approval is still pending (status keeps it).
  const waiting = status?.phase === "awaiting-approval" || status?.phase === "planning";
  const pending = waiting ? status?.pendingApproval : undefined;
  return pending?.approvalId === claims.approvalId && pending.changeHash === claims.changeHash
    ? pending
    : undefined;
}

/** The decision that took effect for this approval, while the status still shows it. */
function decidedIn(status: Status, approvalId: string): DecisionTaken | undefined {
  const candidates = [status?.decided, status?.last?.decision];
  return candidates.find((d) => d?.approvalId === approvalId);
}

/** The body, or "too large" without reading more than the limit (a chunked body has no length). */
async function readBodyLimited(request: HttpRequest): Promise<string | "too large"> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > DECISION_BODY_MAX_BYTES) return "too large";
  if (request.body === null) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > DECISION_BODY_MAX_BYTES) {
      await reader.cancel();
      return "too large";
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseDecision(type: string, text: string): unknown {
  if (type.includes("application/x-www-form-urlencoded")) {
    const form = new URLSearchParams(text);
    return {
      decision: form.get("decision") ?? undefined,
      ...(form.get("comment") ? { comment: form.get("comment") } : {}),
    };
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const GONE =
  "this approval is no longer pending: it expired, or the change moved and a new plan replaced it (the new approval has a new link).";

/** Browsers get a page that explains; API clients the same facts as JSON. */
function answer(
  request: HttpRequest,
  status: number,
  body: Record<string, unknown>,
  title: string,
  page: () => SafeHtml,
): HttpResponseInit {
  return wantsHtml(request) ? htmlResponse(status, title, page()) : json(status, body);
}

function decidedFacts(d: DecisionTaken) {
  return {
    decision: d.decision,
    approver: d.approver,
    at: d.at,
    ...(d.comment ? { comment: d.comment } : {}),
  };
}

const alreadyDecided = (request: HttpRequest, d: DecisionTaken, links: WatchLinks) =>
  answer(
    request,
    409,
    {
      error: `this approval was already decided: ${d.decision} by ${d.approver} at ${d.at}. Your decision did not take effect.`,
      decided: decidedFacts(d),
    },
    "Already decided",
    () => alreadyDecidedPage(d, links),
  );

function watchLinks(policyId: string): WatchLinks {
  return { estate: "/api/estate", status: `/api/status?policy=${encodeURIComponent(policyId)}` };
}

export async function approvalsHandler(
  request: HttpRequest,
  client: DurableClient,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const settings = appSettings();
  const approvalId = request.params.id ?? "";
  const token = request.query.get("token") ?? "";
  let claims: ApprovalClaims;
  try {
    claims = verifyApprovalToken(token, settings.signingKey, approvalId, new Date());
  } catch (error) {
    if (!isGuardError(error, "APPROVAL_INVALID")) throw error;
    context.warn(`approval ${approvalId.slice(0, 80)} refused: ${error.message}`);
    return answer(request, 403, { error: error.message }, "Approval link not valid", () =>
      refusedPage(error.message),
    );
  }
  const status = await statusOf(client, claims.instanceId);
  const policyId = status?.policyId ?? "";
  const links = watchLinks(policyId);
  const gone = (last = status?.last) =>
    answer(request, 410, { error: GONE }, "Approval no longer pending", () => gonePage(last, links));
  const pending = pendingIn(status, claims);
  if (pending === undefined) {
    const decided = decidedIn(status, claims.approvalId);
    return decided ? alreadyDecided(request, decided, links) : gone();
  }

  if (request.method === "GET") {
    const view = await currentPlanView(policyId, pending.changeHash);
    return answer(
      request,
      200,
      {
        policyId,
        approvalId: pending.approvalId,
        changeHash: pending.changeHash,
        expiresAt: pending.expiresAt,
        reasons: pending.reasons,
        summary: pending.summary,
        plan: view.text,
      },
      "Approve firewall change",
      () =>
        approvalPage({
          policyId,
          pending,
          trigger: { reasons: status?.reasons ?? [], reasonCount: status?.reasonCount ?? 0 },
          view,
          formAction: `?token=${encodeURIComponent(token)}`,
          cloud: settings.cloud,
          approverAuth: settings.approverAuth,
        }),
    );
  }

  const approver = approverFrom(request.headers, settings.approverAuth);
  if (approver === undefined)
    return answer(
      request,
      401,
      {
        error:
          "sign in to decide: App Service Authentication fronts approvals, and no signed-in user came with this request.",
      },
      "Sign in to decide",
      signInPage,
    );
  const text = await readBodyLimited(request);
  if (text === "too large") {
    const message = `a decision is at most ${DECISION_BODY_MAX_BYTES} bytes: {"decision":"approve"|"reject","comment":"…"}.`;
    return answer(request, 413, { error: message }, "Decision too large", () => badDecisionPage(message));
  }
  const body = decisionBody.safeParse(parseDecision(request.headers.get("content-type") ?? "", text));
  if (!body.success) {
    const message = `bad decision: ${body.error.issues.map((i) => i.message).join("; ")}. Send {"decision":"approve"|"reject","comment":"…"}.`;
    return answer(request, 400, { error: message }, "Decision not read", () => badDecisionPage(message));
  }
  const facts = {
    instanceId: claims.instanceId,
    approvalId: pending.approvalId,
    changeHash: pending.changeHash,
    decision: body.data.decision,
    decisionId: randomUUID(),
    approver,
  };
  const decision: ApprovalDecision = {
    approvalId: facts.approvalId,
    changeHash: facts.changeHash,
    decision: facts.decision,
    decisionId: facts.decisionId,
    approver,
    ...(body.data.comment ? { comment: body.data.comment } : {}),
    proof: decisionProof(facts, settings.signingKey),
  };
  await client.raiseEvent(claims.instanceId, EVENT_APPROVAL, decision);

  // Several people may press at once: the orchestrator takes exactly one, and says which.
  const deadline = Date.now() + OUTCOME_WAIT_MS;
  for (;;) {
    const now = await statusOf(client, claims.instanceId);
    const taken = decidedIn(now, pending.approvalId);
    if (taken !== undefined) {
      if (taken.decisionId !== facts.decisionId) return alreadyDecided(request, taken, links);
      return answer(
        request,
        200,
        {
          decided: taken.decision,
          tookEffect: true,
          approver: taken.approver,
          approvalId: pending.approvalId,
          ...(taken.comment ? { comment: taken.comment } : {}),
          next:
            taken.decision === "approve"
              ? "the change is being written; the status shows the outcome"
              : "nothing will be written",
          status: links.status,
        },
        taken.decision === "approve" ? "Approved" : "Rejected",
        () => decidedPage(taken, links),
      );
    }
    if (pendingIn(now, claims) === undefined) return gone(now?.last);
    if (Date.now() >= deadline)
      return answer(
        request,
        202,
        {
          received: facts.decision,
          tookEffect: "not yet known",
          approvalId: pending.approvalId,
          status: links.status,
        },
        "Decision received",
        () => receivedPage(facts.decision, pending.approvalId, links),
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

df.app.client.http("approvals", {
  route: "approvals/{id}",
  methods: ["GET", "POST"],
  // The signed token is the credential; App Service Authentication in front records who approved.
  authLevel: "anonymous",
  handler: approvalsHandler,
});
