// The activities' names and their inputs and outputs: plain JSON, shared by the orchestrator (which
// only yields on them) and the activity handlers (which do the I/O). Outputs go into the
// orchestration's history, so they carry counts and hashes, never whole plans or profiles.
import type { Mode, PlanRisk } from "../drift/types";

export const ACTIVITIES = {
  gatherAndPlan: "gatherAndPlan",
  requestApproval: "requestApproval",
  applyPlan: "applyPlan",
} as const;

/** At most this many cluster IDs travel in history and status; the count is always exact. */
export const LISTED_CLUSTERS_MAX = 50;

export interface GatherInput {
  policyId: string;
  /**
   * The change already being decided on: when the new plan is that same change, the output leaves out
   * the plan text (a re-plan while an approval waits adds a few hundred bytes of history, not KBs).
   */
  knownChangeHash?: string;
}

/** What the orchestrator needs of a plan to decide on it, bounded whatever the fleet size. */
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
  /** The strictest mode among the clusters whose rules change (their tags override the global mode). */
  mode: Mode;
}

export interface GatherOutput {
  plan: PlanSummary;
  clusterCount: number;
  /** The first LISTED_CLUSTERS_MAX cluster IDs, sorted. */
  clusterIds: string[];
  /** The plan as text for approvers, truncated; absent when it is `knownChangeHash`'s plan. */
  planText?: string;
}

export interface RequestApprovalInput {
  policyId: string;
  pass: number;
  instanceId: string;
  approvalId: string;
  changeHash: string;
  expiresAt: string;
  reasons: string[];
  /** The plan's first line ("Plan: …"), for the notification. */
  summary: string;
}

export interface RequestApprovalOutput {
  /** Whether a CloudEvent with the link went to the notification topic. */
  published: boolean;
}

export interface ApplyInput {
  policyId: string;
  /** Only this exact change may be written: the activity re-plans and compares. */
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
  /** The group reads back Succeeded and a fresh plan finds no drift. */
  converged: boolean;
  /** Why it did not converge, for the pass record. */
  detail?: string;
}
