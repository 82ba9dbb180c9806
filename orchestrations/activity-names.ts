// The activities' names and their inputs and outputs: plain JSON, shared by the orchestrator (which
// only yields on them) and the activity handlers (which do the I/O).
import type { ClusterProfile, Plan } from "../drift/types";

export const ACTIVITIES = {
  gatherAndPlan: "gatherAndPlan",
  requestApproval: "requestApproval",
  applyPlan: "applyPlan",
} as const;

export interface GatherInput {
  policyId: string;
}

export interface GatherOutput {
  plan: Plan;
  /** The profiles planned for (their modes decide; the orchestrator needs nothing else of them). */
  clusters: ClusterProfile[];
  clusterIds: string[];
  /** formatPlan(plan), for approvers. */
  planText: string;
}

export interface RequestApprovalInput {
  policyId: string;
  pass: number;
  instanceId: string;
  approvalId: string;
  planHash: string;
  expiresAt: string;
  reasons: string[];
  planText: string;
}

export interface RequestApprovalOutput {
  link: string;
  /** Whether a CloudEvent went to the notification topic. */
  published: boolean;
}

export interface ApplyInput {
  policyId: string;
  /** Only this exact plan may be written: the activity re-plans and compares. */
  planHash: string;
}

export interface ApplyOutput {
  outcome: "applied" | "superseded" | "nothing-to-do";
  writes: number;
  converged: boolean;
}
