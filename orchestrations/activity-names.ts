// The activities' names and their inputs and outputs: plain JSON, shared by the orchestrator (which
// only yields on them) and the activity handlers (which do the I/O). Outputs go into the
// orchestration's history, so they carry counts and hashes, never whole plans or profiles.
import type { Mode, PlanRisk } from "../drift/types";
import type { DecisionFacts } from "./approval-token";
import type { CatalogInUse } from "./catalog-adoption";
import type { ReconcilerSettings } from "./reconciler-settings";

export const ACTIVITIES = {
  gatherAndPlan: "gatherAndPlan",
  requestApproval: "requestApproval",
  applyPlan: "applyPlan",
  verifyDecision: "verifyDecision",
  recordAdoption: "recordAdoption",
} as const;

/** At most this many cluster IDs travel in history and status; the count is always exact. */
export const LISTED_CLUSTERS_MAX = 50;

export interface GatherInput {
  policyId: string;
}

/** What the orchestrator needs of a plan to decide on it, bounded whatever the fleet size. */
/** How many findings a plan summary names (it goes into history, so it stays small). */
export const TOP_FINDINGS = 5;

export interface PlanSummary {
  action: "none" | "put";
  /** The group to write (canonical sha256). */
  hash: string;
  /** The managed group as read (content hash, "absent" when there is none). */
  baseHash: string;
  /** Decisions and approvals bind to this: from baseHash to hash. */
  changeHash: string;
  risk: PlanRisk;
  changes: number;
  findings: number;
  /**
   * The first few errors and warnings, "warning EGRESS_BYPASSES_FIREWALL aks-weu-sandbox", so that a
   * trace (and `npm start`) names them; the plan text has all of them. At most TOP_FINDINGS.
   */
  topFindings?: string[];
  /** The strictest mode among the clusters whose rules change (their tags override the global mode). */
  mode: Mode;
  /**
   * Present when the plan moves a per-cluster group to the shared layout: such a write always waits
   * for a person (whatever the mode; audit still only reports). The reason the approval gives.
   */
  migration?: string;
}

export interface GatherOutput {
  plan: PlanSummary;
  /** The settings this pass decides with (read by the activity, so replay sees the same values). */
  settings: ReconcilerSettings;
  clusterCount: number;
  /** The first LISTED_CLUSTERS_MAX cluster IDs, sorted. */
  clusterIds: string[];
  /** The plan's one-line summary ("Plan: 3 to add, …"), for status and the notification. */
  summary: string;
  /** The catalog the plan was made with (absent from activities that ran before it existed). */
  catalog?: CatalogInUse;
}

export interface RequestApprovalInput {
  policyId: string;
  pass: number;
  instanceId: string;
  approvalId: string;
  changeHash: string;
  expiresAt: string;
  reasons: string[];
  /** The plan's one-line summary, for the notification. */
  summary: string;
}

export interface RequestApprovalOutput {
  /** Whether a CloudEvent with the link went to the notification topic. */
  published: boolean;
}

export interface ApplyInput {
  policyId: string;
  /**
   * Only this exact change may be written: the activity writes the planned body it kept (or, in a
   * process that did not plan it, re-plans) and checks the group still holds baseHash first.
   */
  changeHash: string;
  /** Its two sides: the group as read when decided, and the group to write. */
  baseHash: string;
  hash: string;
}

export interface ApplyOutput {
  /**
   * applied: written (or found already written) and read back; superseded: the group or the estate
   * moved since the decision, nothing written; nothing-to-do: no drift any more; failed: Azure
   * accepted the write and reported it Failed (detail has Azure's error).
   */
  outcome: "applied" | "superseded" | "nothing-to-do" | "failed";
  /** PUTs Azure accepted. */
  writes: number;
  /** The group reads back Succeeded with exactly the content written. */
  converged: boolean;
  /** Why it did not converge, for the pass record. */
  detail?: string;
}

/** A decision event to check: its facts and the proof the approval endpoint made over them. */
export interface VerifyDecisionInput extends DecisionFacts {
  proof: unknown;
}

/** A policy's answer to an offered page (catalog-adoption.ts), recorded once the pass settled it. */
export interface RecordAdoptionInput {
  policyId: string;
  pageSha256: string;
  importedAs: string;
  state: "adopted" | "declined" | "expired";
  at: string;
  by?: string;
}
