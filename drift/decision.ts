// What to do with a plan (DESIGN §3 "Modes"): report it, apply it, or ask a person first. Pure.
import { clusterKey } from "./naming";
import type { ClusterProfile, Mode, Plan } from "./types";

export interface DecisionSettings {
  /** The global mode; a cluster's aks-egress-guard/mode tag overrides it for that cluster. */
  mode: Mode;
  removalsNeedApproval: boolean;
  /** A plan removing more than this share of the managed rules is never applied unapproved. */
  maxRemovedShare: number;
}

export type Outcome = "none" | "report" | "apply" | "approve";

export interface Decision {
  outcome: Outcome;
  /** The mode that governed: the strictest among the clusters the plan changes. */
  mode: Mode;
  reasons: string[];
}

const STRICTNESS: Record<Mode, number> = { auto: 0, approve: 1, audit: 2 };

/**
 * One PUT carries every cluster's changes, so the strictest mode among the clusters whose rules
 * change governs the whole plan; changes that belong to no known cluster (stale or foreign rules)
 * follow the global mode.
 */
export function effectiveMode(plan: Plan, clusters: readonly ClusterProfile[], global: Mode): Mode {
  if (plan.changes.length === 0) return global;
  const modes = new Map(clusters.map((c) => [clusterKey(c.id), c.mode ?? global]));
  let mode: Mode = "auto";
  for (const change of plan.changes) {
    const m =
      (change.clusterId === undefined ? undefined : modes.get(clusterKey(change.clusterId))) ?? global;
    if (STRICTNESS[m] > STRICTNESS[mode]) mode = m;
  }
  return mode;
}

export function decide(
  plan: Plan,
  clusters: readonly ClusterProfile[],
  settings: DecisionSettings,
): Decision {
  if (plan.action === "none") return { outcome: "none", mode: settings.mode, reasons: ["no drift"] };
  const mode = effectiveMode(plan, clusters, settings.mode);
  if (mode === "audit")
    return { outcome: "report", mode, reasons: ["audit mode: drift is reported, never applied"] };
  const reasons: string[] = [];
  if (mode === "approve") reasons.push("approve mode: every change is approved by a person");
  if (settings.removalsNeedApproval && plan.risk.removed > 0) {
    reasons.push(`the plan removes ${plan.risk.removed} rule(s), and removals need approval`);
  }
  if (plan.risk.removedShare > settings.maxRemovedShare) {
    const pct = (n: number) => `${Math.round(n * 1000) / 10}%`;
    reasons.push(
      `the plan removes ${pct(plan.risk.removedShare)} of the managed rules, more than the ${pct(settings.maxRemovedShare)} allowed without approval`,
    );
  }
  if (reasons.length > 0) return { outcome: "approve", mode, reasons };
  return { outcome: "apply", mode, reasons: ["auto mode: the plan adds or changes rules only"] };
}
