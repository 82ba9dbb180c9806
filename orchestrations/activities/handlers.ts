// The reconciler's activities: all of a pass's I/O. Expected outcomes are results; only faults worth
// retrying throw (the orchestrator retries them with backoff).
import fs from "node:fs";
import { type ArmConnection, armConnection } from "../../azure/clients";
import { readManagedGroupSettled } from "../../azure/firewall";
import type { Catalog } from "../../catalog";
import { type CatalogImpact, catalogImpact, formatCatalogImpact } from "../../drift/catalog-impact";
import { effectiveMode, migrationReason } from "../../drift/decision";
import { formatPlan } from "../../drift/format";
import type { ClusterProfile, Plan } from "../../drift/types";
import { isGuardError } from "../../errors";
import type { EgressIndex } from "../../topology";
import {
  type ApplyInput,
  type ApplyOutput,
  type GatherInput,
  type GatherOutput,
  LISTED_CLUSTERS_MAX,
  type PlanSummary,
  type RecordAdoptionInput,
  type RequestApprovalInput,
  type RequestApprovalOutput,
  TOP_FINDINGS,
  type VerifyDecisionInput,
} from "../activity-names";
import { createApprovalToken, verifyDecisionProof } from "../approval-token";
import { updateAdoption, withAnswer } from "../catalog-adoption";
import { catalogStoreFor } from "../catalog-store";
import { CLOUD_EVENT_SOURCE, publishNotifications } from "../notifications";
import { reconcilerSettingsFrom } from "../reconciler-settings";
import { type AppSettings, appSettings } from "../settings";
import { EVENTS, type Logger, logEvent } from "../telemetry";
import { type PolicyCatalog, policyCatalog, withCatalog } from "./catalog-choice";
import {
  checkPolicy,
  type DecidedWrite,
  type PassSettings,
  rememberedWrite,
  rememberPlan,
  writeDecided,
} from "./plan";

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
    policiesInScope: settings.firewallPolicies,
    includeUntaggedWhenDefault: settings.includeUntaggedWhenDefault,
    ...(settings.defaultPolicyId ? { defaultPolicyId: settings.defaultPolicyId } : {}),
    defaultFeatures: settings.defaultFeatures,
    resolvers: settings.resolvers,
  };
}

/** Errors and warnings first (the plan sorts findings by severity), named by code and cluster name. */
function topFindingsOf(plan: Plan): { topFindings?: string[] } {
  const top = plan.findings
    .filter((f) => f.severity !== "info")
    .slice(0, TOP_FINDINGS)
    .map((f) => {
      const where = f.clusterId?.split("/").pop() ?? f.location ?? "";
      return `${f.severity} ${f.code}${where ? ` ${where.slice(0, 80)}` : ""}`;
    });
  return top.length > 0 ? { topFindings: top } : {};
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
    ...topFindingsOf(plan),
    mode: effectiveMode(plan, clusters, settings.mode),
    ...(plan.migration ? { migration: migrationReason(plan.migration) } : {}),
  };
}

/**
 * One pass's reads and plan. Its egress index (what network changes concern this policy) goes to
 * the reconciler, which keeps the latest in its input for the event narrowing (functions/events).
 */
export async function gatherAndPlan(
  input: GatherInput,
): Promise<GatherOutput & { egressIndex: EgressIndex }> {
  const settings = appSettings();
  const chosen = await policyCatalog(settings, input.policyId);
  const { gathered, plan } = await checkPolicy(
    connectionFor(settings),
    input.policyId,
    withCatalog(passSettingsFrom(settings), chosen),
  );
  // The body stays in this process for the apply activity; history gets only its hashes.
  rememberPlan(input.policyId, plan);
  const ids = gathered.clusters.map((c) => c.id).sort();
  return {
    plan: summarise(plan, gathered.clusters, settings),
    settings: reconcilerSettingsFrom(settings),
    clusterCount: ids.length,
    clusterIds: ids.slice(0, LISTED_CLUSTERS_MAX),
    summary: planSummaryLine(plan),
    catalog: chosen.inUse,
    egressIndex: gathered.egressIndex,
  };
}

/**
 * Writes only the change that was decided on, reading the managed group alone, not the estate: the
 * body is the one gatherAndPlan made in this process for exactly this change (rememberedWrite), and
 * writeDecided sends it only while the group still is what the plan was made from (its content hash
 * and If-Match), or finishes it when the group already holds it (in place: nothing to write; marked
 * Failed: our own write, written again). A group that moved supersedes the decision: nothing is
 * written and the orchestrator plans and decides again. Verification reads back that group alone.
 */
export async function applyApprovedPlan(input: ApplyInput): Promise<ApplyOutput> {
  const settings = appSettings();
  const arm = connectionFor(settings);
  const pass = passSettingsFrom(settings);
  const decided =
    rememberedWrite(input.policyId, pass.groupName, input) ??
    (await replanDecided(arm, input, settings, pass));
  if (!("body" in decided)) return decided;
  try {
    const result = await writeDecided(arm, input.policyId, pass.groupName, decided);
    return {
      outcome: "applied",
      writes: result.writes,
      converged: result.converged,
      // No PUT: an earlier run of this activity wrote it (activities run at least once), or someone else.
      ...(result.detail
        ? { detail: result.detail }
        : result.writes === 0
          ? { detail: "already in place" }
          : {}),
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

/**
 * This process did not plan the change (another worker did, or the app restarted since): the estate
 * is read and planned again, with the catalog gatherAndPlan plans with, and the write goes ahead only
 * when the new plan is that same change, or when the group already holds what was decided but Azure
 * marked that write Failed (our own write, to be finished). Anything else is superseded, or done.
 */
async function replanDecided(
  arm: ArmConnection,
  input: ApplyInput,
  settings: AppSettings,
  pass: PassSettings,
): Promise<DecidedWrite | ApplyOutput> {
  // A write still in flight (ours, from an attempt whose answer was lost, or anyone's) settles first:
  // the plan must be made from a group Azure has finished with, or Updating would read as converged.
  await readManagedGroupSettled(arm, input.policyId, pass.groupName);
  const chosen = await policyCatalog(settings, input.policyId);
  const { plan } = await checkPolicy(arm, input.policyId, withCatalog(pass, chosen));
  if (plan.action === "none" || plan.body === undefined) {
    // The decided group is in place: an earlier run of this activity wrote it, or someone else did.
    if (plan.baseHash === input.hash)
      return { outcome: "applied", writes: 0, converged: true, detail: "already in place" };
    return { outcome: "nothing-to-do", writes: 0, converged: true };
  }
  const same = plan.changeHash === input.changeHash;
  const finishingOurOwn = plan.hash === input.hash && plan.baseHash === input.hash;
  if (!same && !finishingOurOwn) return { outcome: "superseded", writes: 0, converged: false };
  return {
    body: plan.body,
    baseHash: plan.baseHash,
    hash: plan.hash,
    ...(plan.baseEtag ? { baseEtag: plan.baseEtag } : {}),
  };
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

const PLAN_VIEW_TTL_MS = 60_000;
/** A plan of thousands of clusters is large: only the last few pages' plans are kept. */
const PLAN_VIEWS_KEPT = 5;
const planViews = new Map<string, { view: PlanView; at: number }>();

/** What the approval page shows: the plan itself (read afresh), or why it cannot be shown. */
export type PlanView =
  | {
      state: "current";
      plan: Plan;
      /** The plan as text, exactly what `check` prints (with the adoption's impact when there is one). */
      text: string;
      /** The catalog the plan was made with (its version and page date say where each rule comes from). */
      catalog: Catalog;
      /** A page offered for adoption: the catalog it replaces, and what each cluster gains and loses. */
      adoption?: { replacing: Catalog; impact: CatalogImpact };
    }
  | { state: "moved" | "unreadable"; text: string };

/**
 * The whole plan, read afresh (custom status holds only its summary): shown only while it is still
 * the change this approval is for; otherwise the page says the change moved.
 */
export async function currentPlanView(policyId: string, changeHash: string): Promise<PlanView> {
  const settings = appSettings();
  // Link previews and reloads should not each read the whole estate: a plan is kept briefly.
  const cached = planViews.get(changeHash);
  if (cached !== undefined && Date.now() - cached.at < PLAN_VIEW_TTL_MS) return cached.view;
  try {
    const chosen = await policyCatalog(settings, policyId);
    const { gathered, plan } = await checkPolicy(
      connectionFor(settings),
      policyId,
      withCatalog(passSettingsFrom(settings), chosen),
    );
    if (plan.changeHash !== changeHash)
      return {
        state: "moved",
        text: "The managed group or the clusters changed since this approval was asked for: this plan will be superseded, and a new approval (with a new link) asked for. Approving this one writes nothing.",
      };
    const adoption = chosen.replacing
      ? {
          replacing: chosen.replacing,
          impact: catalogImpact(gathered.clusters, chosen.replacing, chosen.catalog),
        }
      : undefined;
    const text = adoption
      ? `${formatPlan(plan)}\n\n${adoptionText(chosen, adoption.impact)}`
      : formatPlan(plan);
    const view: PlanView = {
      state: "current",
      plan,
      text,
      catalog: chosen.catalog,
      ...(adoption ? { adoption } : {}),
    };
    if (planViews.size >= PLAN_VIEWS_KEPT) planViews.clear();
    planViews.set(changeHash, { view, at: Date.now() });
    return view;
  } catch (error) {
    return {
      state: "unreadable",
      text: `The plan could not be read just now (${error instanceof Error ? error.message : String(error)}). Reload to try again.`,
    };
  }
}

/** Why this plan asks: Microsoft's page changed, and what each cluster gains and loses by it, line by line. */
export function adoptionText(chosen: PolicyCatalog, impact: CatalogImpact): string {
  const from = chosen.replacing ?? chosen.catalog;
  const page = chosen.catalog.document;
  return [
    `Catalog adoption: Microsoft's page of ${page.date} (${chosen.catalog.version}) replaces catalog ${from.version} for this policy.`,
    "Approving applies this plan and adopts the page for this policy; rejecting keeps the catalog in use.",
    "Each line says which entry of which page the requirement comes from.",
    "",
    formatCatalogImpact(impact),
  ].join("\n");
}

/** Records a policy's answer to an offered page, so that later passes plan with the right catalog. */
export async function recordAdoption(input: RecordAdoptionInput, logger: Logger): Promise<void> {
  const settings = appSettings();
  await updateAdoption(catalogStoreFor(settings), settings, (record) =>
    withAnswer(record, input.policyId, {
      pageSha256: input.pageSha256,
      importedAs: input.importedAs,
      state: input.state,
      at: input.at,
      ...(input.by ? { by: input.by } : {}),
    }),
  );
  logEvent(logger, EVENTS.catalogAdoption, {
    policyId: input.policyId,
    pageSha256: input.pageSha256,
    importedAs: input.importedAs,
    state: input.state,
    by: input.by ?? "",
  });
}
