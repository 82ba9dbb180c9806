// The reconciler's activities: all of a pass's I/O. Expected outcomes are results; only faults worth
// retrying throw (the orchestrator retries them with backoff).
import fs from "node:fs";
import { AzureKeyCredential } from "@azure/core-auth";
import { EventGridPublisherClient } from "@azure/eventgrid";
import { DefaultAzureCredential } from "@azure/identity";
import { type ArmConnection, armConnection } from "../../azure/clients";
import { formatPlan } from "../../drift/format";
import { isGuardError } from "../../errors";
import type {
  ApplyInput,
  ApplyOutput,
  GatherInput,
  GatherOutput,
  RequestApprovalInput,
  RequestApprovalOutput,
} from "../activity-names";
import { createApprovalToken } from "../approval-token";
import { type AppSettings, appSettings } from "../settings";
import { EVENTS, type Logger, logEvent } from "../telemetry";
import { applyPlan, checkPolicy, type PassSettings } from "./plan";

/** Approvers read the plan in the custom status: keep it well under Durable's 16 KB. */
const PLAN_TEXT_LIMIT = 8_000;

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

function truncate(text: string): string {
  if (text.length <= PLAN_TEXT_LIMIT) return text;
  const cut = text.slice(0, PLAN_TEXT_LIMIT);
  return `${cut.slice(0, cut.lastIndexOf("\n"))}\n… (${text.length - PLAN_TEXT_LIMIT} more characters: run aks-egress check for the whole plan)`;
}

export async function gatherAndPlan(input: GatherInput): Promise<GatherOutput> {
  const settings = appSettings();
  const { gathered, plan } = await checkPolicy(
    connectionFor(settings),
    input.policyId,
    passSettingsFrom(settings),
  );
  return {
    plan,
    clusters: gathered.clusters,
    clusterIds: gathered.clusters.map((c) => c.id),
    planText: truncate(formatPlan(plan)),
  };
}

/** Writes only the plan that was decided on: re-plans first, and a different plan is superseded. */
export async function applyApprovedPlan(input: ApplyInput): Promise<ApplyOutput> {
  const settings = appSettings();
  const arm = connectionFor(settings);
  const pass = passSettingsFrom(settings);
  const { gathered, plan } = await checkPolicy(arm, input.policyId, pass);
  if (plan.action === "none") return { outcome: "nothing-to-do", writes: 0, converged: true };
  if (plan.hash !== input.planHash) return { outcome: "superseded", writes: 0, converged: false };
  try {
    const result = await applyPlan(
      arm,
      input.policyId,
      plan,
      pass,
      gathered.etag ? { etag: gathered.etag } : {},
    );
    return { outcome: "applied", writes: result.writes, converged: result.converged };
  } catch (error) {
    // The group changed between our read and our write: not ours to overwrite; the next pass re-plans.
    if (isGuardError(error, "ARM_PRECONDITION_FAILED"))
      return { outcome: "superseded", writes: 0, converged: false };
    throw error;
  }
}

export function approvalLink(settings: AppSettings, approvalId: string, token: string): string {
  return `${settings.publicBaseUrl}/api/approvals/${encodeURIComponent(approvalId)}?token=${encodeURIComponent(token)}`;
}

/** The link goes to the logs and, when configured, to an Event Grid topic as a CloudEvent. */
export async function requestApproval(
  input: RequestApprovalInput,
  logger: Logger,
): Promise<RequestApprovalOutput> {
  const settings = appSettings();
  const token = createApprovalToken(
    {
      instanceId: input.instanceId,
      approvalId: input.approvalId,
      planHash: input.planHash,
      expiresAt: input.expiresAt,
    },
    settings.signingKey,
  );
  const link = approvalLink(settings, input.approvalId, token);
  logEvent(logger, EVENTS.approvalRequested, {
    policyId: input.policyId,
    pass: input.pass,
    instanceId: input.instanceId,
    approvalId: input.approvalId,
    hash: input.planHash,
    expiresAt: input.expiresAt,
    reasons: input.reasons,
    link,
  });
  if (settings.notificationTopicEndpoint === undefined) return { link, published: false };
  const credential = settings.notificationTopicKey
    ? new AzureKeyCredential(settings.notificationTopicKey)
    : new DefaultAzureCredential();
  const publisher = new EventGridPublisherClient(
    settings.notificationTopicEndpoint,
    "CloudEvent",
    credential,
  );
  await publisher.send([
    {
      type: "AksEgressGuard.ApprovalRequested",
      source: "/aks-egress-guard",
      subject: input.policyId,
      id: `${input.instanceId}-${input.approvalId}`,
      data: {
        policyId: input.policyId,
        approvalId: input.approvalId,
        planHash: input.planHash,
        expiresAt: input.expiresAt,
        reasons: input.reasons,
        summary: input.planText.split("\n").find((l) => l.startsWith("Plan:")) ?? "",
        link,
      },
    },
  ]);
  return { link, published: true };
}
