// GET /api/estate: every policy in scope with the clusters it serves (read from Azure now), its
// reconciler's phase, the drift, a pending approval (never its link) and the recent passes with their
// decisions. HTML for browsers, JSON otherwise; ?format=json|html decides. Read-only.
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import * as df from "durable-functions";
import { connectionFor, passSettingsFrom } from "../orchestrations/activities/handlers";
import { instanceIdFor } from "../orchestrations/instance-id";
import type { ReconcilerStatus } from "../orchestrations/reconciler";
import { type AppSettings, appSettings } from "../orchestrations/settings";
import { armReason, type PolicyClusters, readEstateClusters } from "./http/estate-clusters";
import { type ReconcilerState, reconcilerState } from "./http/reconciler-status";
import { json, problem } from "./http/responses";
import { type DriftNow, type EstatePolicy, type EstateView, estatePage } from "./pages/estate-page";
import { htmlResponse, wantsHtml } from "./pages/html";

/** Who may decide a pending approval, in words: the estate page never shows the link. */
export function whoCanDecide(
  settings: Pick<AppSettings, "approverAuth" | "notificationTopicEndpoint">,
): string {
  const link = settings.notificationTopicEndpoint
    ? "the link was sent to the notification topic only (locally, npm start prints what its topic delivered)"
    : "no notification topic is set, so the link was sent nowhere (a later pass asks again once one is)";
  return settings.approverAuth === "appservice"
    ? `anyone with the link who signs in with Microsoft Entra ID (App Service Authentication); ${link}`
    : `anyone who holds the link; ${link}`;
}

/** What the drift is now, from the running pass's plan or else the last pass. */
export function driftNow(status: ReconcilerStatus | undefined): DriftNow {
  const plan = status?.plan;
  if (status && plan && status.phase !== "idle") {
    if (plan.action === "none") return { state: "none", summary: `none (pass ${status.pass}'s plan)` };
    return {
      state: "drift",
      summary: `${plan.added} to add, ${plan.changed} to change, ${plan.removed} to remove, ${plan.findings} finding(s) (pass ${status.pass}, ${status.phase})`,
    };
  }
  const last = status?.last;
  if (last === undefined) return { state: "unknown", summary: "not known yet: no pass has completed" };
  const at = `pass ${last.pass} at ${last.completedAt}`;
  switch (last.outcome) {
    case "no-drift":
      return { state: "none", summary: `none (${at})` };
    case "applied":
      return {
        state: "none",
        summary: `none: ${at} applied ${last.changes} change(s) and read back no drift`,
      };
    case "reported":
      return { state: "drift", summary: `${last.changes} change(s) reported, not applied (${at})` };
    case "rejected":
      return { state: "drift", summary: `${last.changes} change(s) not made: rejected (${at})` };
    case "expired":
      return { state: "drift", summary: `${last.changes} change(s) not made: the approval expired (${at})` };
    case "not-converged":
      return { state: "drift", summary: `drift remains after the write (${at})` };
    case "superseded":
      return { state: "unknown", summary: `the change moved (${at}); the next pass plans again` };
    case "failed":
      return { state: "unknown", summary: `not known: ${at} failed` };
  }
}

function policyView(
  policyId: string,
  state: ReconcilerState,
  clusters: PolicyClusters,
  settings: AppSettings,
): EstatePolicy {
  const base = {
    policyId,
    name: policyId.split("/").at(-1) ?? policyId,
    instanceId: instanceIdFor(policyId),
  };
  if (state.kind !== "found")
    return {
      ...base,
      runtimeStatus: state.kind === "not-started" ? "NotStarted" : "Unknown",
      ...(state.kind === "unreadable" ? { statusError: state.error } : {}),
      drift: state.kind === "not-started" ? driftNow(undefined) : { state: "unknown", summary: "not known" },
      recent: [],
      clusters,
    };
  const s = state.status;
  const pending = s?.pendingApproval;
  const running = s !== undefined && s.phase !== "idle";
  return {
    ...base,
    runtimeStatus: state.runtimeStatus,
    ...(state.lastUpdated ? { lastUpdated: state.lastUpdated } : {}),
    ...(s
      ? {
          phase: s.phase,
          pass: s.pass,
          ...(running ? { reasons: s.reasons, reasonCount: s.reasonCount } : {}),
        }
      : {}),
    drift: driftNow(s),
    ...(running && s?.plan ? { plan: s.plan } : {}),
    // Only what identifies the approval and why it waits: never its link or token.
    ...(pending
      ? {
          pendingApproval: {
            approvalId: pending.approvalId,
            expiresAt: pending.expiresAt,
            reasons: pending.reasons,
            summary: pending.summary,
            whoCanDecide: whoCanDecide(settings),
          },
        }
      : {}),
    ...(running && s?.decided ? { decided: s.decided } : {}),
    ...(s?.last ? { last: s.last } : {}),
    // Instances from before the list was kept have only their last pass.
    recent: s?.recent ?? (s?.last ? [s.last] : []),
    clusters,
  };
}

/** The estate as the page and its JSON twin show it. */
export async function estateView(client: DurableClient, settings: AppSettings): Promise<EstateView> {
  const policies = settings.firewallPolicies;
  const clustersRead = (async () => {
    try {
      // The settings a pass is given: the clusters are mapped to policies exactly as a pass maps them.
      return await readEstateClusters(connectionFor(settings), policies, passSettingsFrom(settings));
    } catch (error) {
      // Not even a connection to ARM (e.g. its CA file): every policy says so.
      const unread: PolicyClusters = {
        read: false,
        error: `Azure could not be reached (${armReason(error)})`,
      };
      return new Map(policies.map((p) => [p.toLowerCase(), unread]));
    }
  })();
  const [states, clusters] = await Promise.all([
    Promise.all(policies.map((p) => reconcilerState(client, instanceIdFor(p)))),
    clustersRead,
  ]);
  return {
    generatedAt: new Date().toISOString(),
    mode: settings.mode,
    policies: policies.map((policyId, i) =>
      policyView(
        policyId,
        states[i] ?? { kind: "unreadable", error: "not read" },
        clusters.get(policyId.toLowerCase()) ?? { read: false, error: "not read" },
        settings,
      ),
    ),
  };
}

export async function estateHandler(request: HttpRequest, client: DurableClient): Promise<HttpResponseInit> {
  const format = request.query.get("format");
  if (format !== null && format !== "json" && format !== "html")
    return problem(400, `format must be "json" or "html", not "${format.slice(0, 40)}".`);
  const view = await estateView(client, appSettings());
  const asHtml = format === "html" || (format === null && wantsHtml(request));
  return asHtml ? htmlResponse(200, "Egress estate", estatePage(view)) : json(200, view);
}

df.app.client.http("estate", {
  route: "estate",
  methods: ["GET"],
  authLevel: "function",
  handler: estateHandler,
});
