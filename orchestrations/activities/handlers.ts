// The reconciler's activities: all of a pass's I/O. Expected outcomes are results; only faults worth
// retrying throw (the orchestrator retries them with backoff).
import fs from "node:fs";
import { type ArmConnection, armConnection } from "../../azure/clients";
import { readManagedGroupSettled } from "../../azure/firewall";
import { effectiveMode } from "../../drift/decision";
import { formatPlan } from "../../drift/format";
import type { ClusterProfile, Plan } from "../../drift/types";
import { isGuardError } from "../../errors";
import {
  type ApplyInput,
  type ApplyOutput,
  type GatherInput,
  type GatherOutput,
  LISTED_CLUSTERS_MAX,
  type PlanSummary,
  type RequestApprovalInput,
  type RequestApprovalOutput,
  type VerifyDecisionInput,
} from "../activity-names";
import { createApprovalToken, verifyDecisionProof } from "../approval-token";
import { CLOUD_EVENT_SOURCE, publishNotifications } from "../notifications";
import { reconcilerSettingsFrom } from "../reconciler-settings";
import { type AppSettings, appSettings } from "../settings";
import { EVENTS, type Logger, logEvent } from "../telemetry";
import { applyPlan, checkPolicy, type PassSettings } from "./plan";

let connection: { key: string; value: ArmConnection } | undefined;

export function connectionFor(settings: AppSettings): ArmConnection {
  const key = `${settings.cloud}|${settings.armEndpoint ?? ""}|${settings.armCaFile ?? ""}`;
  if (connection?.key !== key) {
    const ca = settings.armCaFile ? fs.readFileSync(settings.armCaFile, "utf8") : undefined;
    connection = { key, value: armConnection(settings.cloud, settings.armEndpoint, ca) };
  }
  return connection.value;
}

export function passSettingsFrom(settings: AppSettings): PassSettings {
  return {
    cloud: settings.cloud,
    groupName: settings.groupName,
    groupPriority: settings.groupPriority,
    catalogVersion: settings.catalogVersion,
    allowAnySource: settings.allowAnySource,
    subscriptions: settings.subscriptions,
    includeUntaggedWhenDefault: settings.includeUntaggedWhenDefault,
    ...(settings.defaultPolicyId ? { defaultPolicyId: settings.defaultPolicyId } : {}),
    defaultFeatures: settings.defaultFeatures,
  };
}

/** What the orchestrator needs to decide on a plan; its output goes into history, so it is small. */
export function summarise(
  plan: Plan,
  clusters: readonly ClusterProfile[],
  settings: AppSettings,
): PlanSummary {
  return {
    action: plan.action,
    hash: plan.hash,
    baseHash: plan.baseHash,
    changeHash: plan.changeHash,
    risk: plan.risk,
    changes: plan.changes.length,
    findings: plan.findings.length,
    mode: effectiveMode(plan, clusters, settings.mode),
  };
}

export async function gatherAndPlan(input: GatherInput): Promise<GatherOutput> {
  const settings = appSettings();
  const { gathered, plan } = await checkPolicy(
    connectionFor(settings),
    input.policyId,
    passSettingsFrom(settings),
  );
  const ids = gathered.clusters.map((c) => c.id).sort();
  return {
    plan: summarise(plan, gathered.clusters, settings),
    settings: reconcilerSettingsFrom(settings),
    clusterCount: ids.length,
    clusterIds: ids.slice(0, LISTED_CLUSTERS_MAX),
    summary: planSummaryLine(plan),
  };
}

/**
 * Writes only the change that was decided on. It re-plans first: the write goes ahead only when the
 * new plan is that same change (the group as read and the group to write both unchanged), or when
 * the group already holds what was decided but Azure marked that write Failed (our own write, to be
 * finished). Anything else is superseded: nothing is written and the orchestrator decides again.
 */
export async function applyApprovedPlan(input: ApplyInput): Promise<ApplyOutput> {
  const settings = appSettings();
  const arm = connectionFor(settings);
  const pass = passSettingsFrom(settings);
  // A write still in flight (ours, from an attempt whose answer was lost, or anyone's) settles first:
  // the plan must be made from a group Azure has finished with, or Updating would read as converged.
  await readManagedGroupSettled(arm, input.policyId, pass.groupName);
  const { plan } = await checkPolicy(arm, input.policyId, pass);
  if (plan.action === "none") {
    // The decided group is in place: an earlier run of this activity wrote it (activities run at
    // least once), or someone else did. Either way the decided change holds.
    if (plan.baseHash === input.hash)
      return { outcome: "applied", writes: 0, converged: true, detail: "already in place" };
    return { outcome: "nothing-to-do", writes: 0, converged: true };
  }
  const same = plan.changeHash === input.changeHash;
  const finishingOurOwn = plan.hash === input.hash && plan.baseHash === input.hash;
  if (!same && !finishingOurOwn) return { outcome: "superseded", writes: 0, converged: false };
  try {
    const result = await applyPlan(arm, input.policyId, plan, pass);
    return {
      outcome: "applied",
      writes: result.writes,
      converged: result.converged,
      ...(result.converged
        ? {}
        : {
            detail:
              result.provisioningState?.toLowerCase() !== "succeeded"
                ? `the group reads back ${result.provisioningState ?? "missing"}`
                : `a fresh read shows ${result.after.changes.length} change(s) still to make`,
          }),
    };
  } catch (error) {
    // The group moved between our read and our write: not ours to overwrite; decide again.
    if (isGuardError(error, "ARM_PRECONDITION_FAILED"))
      return { outcome: "superseded", writes: 0, converged: false };
    // Azure accepted the write and then failed it: the pass fails with Azure's own words, and the
    // group (marked Failed) is drift for the next pass. Not retried here: the group is not ours to
    // hammer while Azure reports it failed.
    if (isGuardError(error, "ARM_WRITE_FAILED"))
      return { outcome: "failed", writes: 1, converged: false, detail: error.message };
    throw error;
  }
}

export function approvalLink(settings: AppSettings, approvalId: string, token: string): string {
  return `${settings.publicBaseUrl}/api/approvals/${encodeURIComponent(approvalId)}?token=${encodeURIComponent(token)}`;
}

/**
 * The link is a credential: it goes only to the notification topic (a CloudEvent), never to logs or
 * status. The log line says an approval was requested and where the link went.
 */
export async function requestApproval(
  input: RequestApprovalInput,
  logger: Logger,
): Promise<RequestApprovalOutput> {
  const settings = appSettings();
  const token = createApprovalToken(
    {
      instanceId: input.instanceId,
      approvalId: input.approvalId,
      changeHash: input.changeHash,
      expiresAt: input.expiresAt,
    },
    settings.signingKey,
  );
  const link = approvalLink(settings, input.approvalId, token);
  const published = settings.notificationTopicEndpoint !== undefined;
  logEvent(logger, EVENTS.approvalRequested, {
    policyId: input.policyId,
    pass: input.pass,
    instanceId: input.instanceId,
    approvalId: input.approvalId,
    changeHash: input.changeHash,
    expiresAt: input.expiresAt,
    reasons: input.reasons,
    linkSentTo: published ? "notification topic" : "nowhere: no notification topic is set",
  });
  if (!published) return { published: false };
  await publishNotifications(settings, [
    {
      type: APPROVAL_REQUESTED_TYPE,
      source: CLOUD_EVENT_SOURCE,
      subject: input.policyId,
      id: `${input.instanceId}-${input.approvalId}`,
      data: {
        policyId: input.policyId,
        approvalId: input.approvalId,
        changeHash: input.changeHash,
        expiresAt: input.expiresAt,
        reasons: input.reasons,
        summary: input.summary,
        link,
      },
    },
  ]);
  return { published: true };
}

export const APPROVAL_REQUESTED_TYPE = "AksEgressGuard.ApprovalRequested";

/** The "Plan: …" line of formatPlan: what status and notifications show of a plan. */
export function planSummaryLine(plan: Plan): string {
  return (
    formatPlan(plan)
      .split("\n")
      .find((l) => l.startsWith("Plan:")) ?? (plan.action === "none" ? "No changes." : "")
  );
}

/** Checked in an activity, so that the orchestrator holds no key and replay sees the recorded answer. */
export function verifyDecision(input: VerifyDecisionInput): boolean {
  const { proof, ...facts } = input;
  return verifyDecisionProof(facts, proof, appSettings().signingKey);
}

const PLAN_TEXT_TTL_MS = 60_000;
const planTexts = new Map<string, { text: string; at: number }>();

/**
 * The whole plan, read afresh (custom status holds only its summary): shown only while it is still
 * the change this approval is for; otherwise the page says the change moved.
 */
export async function currentPlanText(policyId: string, changeHash: string): Promise<string> {
  const settings = appSettings();
  // Link previews and reloads should not each read the whole estate: a plan text is kept briefly.
  const cached = planTexts.get(changeHash);
  if (cached !== undefined && Date.now() - cached.at < PLAN_TEXT_TTL_MS) return cached.text;
  try {
    const { plan } = await checkPolicy(connectionFor(settings), policyId, passSettingsFrom(settings));
    if (plan.changeHash === changeHash) {
      const text = formatPlan(plan);
      if (planTexts.size >= 20) planTexts.clear();
      planTexts.set(changeHash, { text, at: Date.now() });
      return text;
    }
    return "The managed group or the clusters changed since this approval was asked for: this plan will be superseded, and a new approval (with a new link) asked for. Approving this one writes nothing.";
  } catch (error) {
    return `The plan could not be read just now (${error instanceof Error ? error.message : String(error)}). Reload to try again.`;
  }
}
