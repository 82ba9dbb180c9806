// The approval link: GET shows the plan and never decides (chat clients preview links); POST decides.
// The token proves the link was issued for this approval of this exact plan and has not expired;
// the reconciler's status proves it is still pending (decided, expired and superseded ones are gone).
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import * as df from "durable-functions";
import { z } from "zod";
import { isGuardError } from "../errors";
import { type ApprovalClaims, verifyApprovalToken } from "../orchestrations/approval-token";
import {
  type ApprovalDecision,
  EVENT_APPROVAL,
  type PendingApproval,
  type ReconcilerStatus,
} from "../orchestrations/reconciler";
import { appSettings } from "../orchestrations/settings";
import { approverFrom } from "./http/principal";
import { json, problem } from "./http/responses";

const decisionBody = z.object({
  decision: z.enum(["approve", "reject"], { message: 'decision must be "approve" or "reject"' }),
  comment: z.string().max(1000).optional(),
});

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function pendingFor(
  client: DurableClient,
  claims: ApprovalClaims,
): Promise<PendingApproval | undefined> {
  let status: Awaited<ReturnType<DurableClient["getStatus"]>>;
  try {
    status = await client.getStatus(claims.instanceId);
  } catch {
    return undefined;
  }
  const custom = status.customStatus as ReconcilerStatus | undefined;
  const pending = custom?.phase === "awaiting-approval" ? custom.pendingApproval : undefined;
  return pending?.approvalId === claims.approvalId && pending.planHash === claims.planHash
    ? pending
    : undefined;
}

function page(pending: PendingApproval, policyId: string, token: string): string {
  const action = `?token=${encodeURIComponent(token)}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Approve firewall change</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:1rem;overflow:auto}button{font-size:1rem;margin-right:1rem}</style></head>
<body><h1>Firewall change waiting for approval</h1>
<p>Policy <code>${escapeHtml(policyId)}</code><br>Approval <code>${escapeHtml(pending.approvalId)}</code>, expires ${escapeHtml(pending.expiresAt)}</p>
<p>Why approval is needed: ${escapeHtml(pending.reasons.join("; "))}</p>
<pre>${escapeHtml(pending.planText)}</pre>
<form method="post" action="${escapeHtml(action)}">
<p><label>Comment <input name="comment" size="60"></label></p>
<button name="decision" value="approve">Approve and apply</button><button name="decision" value="reject">Reject</button>
</form><p>Opening this page decides nothing; only the buttons do.</p></body></html>`;
}

async function readDecision(request: HttpRequest): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (type.includes("application/x-www-form-urlencoded")) {
    const form = new URLSearchParams(await request.text());
    return {
      decision: form.get("decision") ?? undefined,
      ...(form.get("comment") ? { comment: form.get("comment") } : {}),
    };
  }
  try {
    return await request.json();
  } catch {
    return undefined;
  }
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
    context.warn(`approval ${approvalId} refused: ${error.message}`);
    return problem(403, error.message);
  }
  const pending = await pendingFor(client, claims);
  if (pending === undefined) {
    return problem(
      410,
      "this approval is no longer pending: it was decided, it expired, or the drift changed and a new plan replaced it.",
    );
  }
  const status = (await client.getStatus(claims.instanceId)).customStatus as ReconcilerStatus;

  if (request.method === "GET") {
    const wantsHtml = (request.headers.get("accept") ?? "").includes("text/html");
    if (wantsHtml)
      return {
        status: 200,
        body: page(pending, status.policyId, token),
        headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
      };
    return json(200, {
      policyId: status.policyId,
      approvalId: pending.approvalId,
      planHash: pending.planHash,
      expiresAt: pending.expiresAt,
      reasons: pending.reasons,
      plan: pending.planText,
    });
  }

  const body = decisionBody.safeParse(await readDecision(request));
  if (!body.success)
    return problem(
      400,
      `bad decision: ${body.error.issues.map((i) => i.message).join("; ")}. Send {"decision":"approve"|"reject","comment":"…"}.`,
    );
  const decision: ApprovalDecision = {
    approvalId: pending.approvalId,
    planHash: pending.planHash,
    decision: body.data.decision,
    approver: approverFrom(request.headers),
    ...(body.data.comment ? { comment: body.data.comment } : {}),
  };
  await client.raiseEvent(claims.instanceId, EVENT_APPROVAL, decision);
  return json(202, {
    accepted: decision.decision,
    approver: decision.approver,
    approvalId: pending.approvalId,
    status: `/api/status?policy=${encodeURIComponent(status.policyId)}`,
  });
}

df.app.client.http("approvals", {
  route: "approvals/{id}",
  methods: ["GET", "POST"],
  // The signed token is the credential; put App Service Authentication in front to record who approved.
  authLevel: "anonymous",
  handler: approvalsHandler,
});
