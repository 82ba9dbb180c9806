// What to do with a plan (DESIGN §3 "Modes"): report it, apply it, or ask a person first. Pure.
import { FOREIGN_RULE } from "./diff";
import { clusterKey } from "./naming";
import type { ClusterProfile, LayoutMigration, Mode, Plan, PlanRisk } from "./types";

/** Why a plan that moves the group to the shared layout waits for a person, whatever the mode. */
export function migrationReason(migration: LayoutMigration): string {
  return `layout migration: ${migration.collections} per-cluster collections become ${migration.rules} shared rules`;
}

export interface DecisionSettings {
  /** The global mode; a cluster's aks-egress-guard/mode tag overrides it for that cluster. */
  mode: Mode;
  removalsNeedApproval: boolean;
  /**
   * Unapproved removals within the rolling window (this plan's included) may take at most this share
   * of the managed rules; past it a person decides.
   */
  maxRemovedShare: number;
}

/** Rules removed by a write nobody approved, kept for the rolling removal budget. */
export interface RemovalRecord {
  /** ISO 8601: when the write was applied. */
  at: string;
  removed: number;
  /** Rules in the managed group before that write. */
  before: number;
}

/** What the decision reads of a plan (the orchestrator has only this summary, not the plan). */
export interface PlanForDecision {
  action: Plan["action"];
  risk: PlanRisk;
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
  const consider = (m: Mode) => {
    if (STRICTNESS[m] > STRICTNESS[mode]) mode = m;
  };
  // Shared rules belong to no one cluster: the clusters whose access changes are the ones it is about.
  for (const id of plan.affectedClusters ?? []) consider(modes.get(clusterKey(id)) ?? global);
  let unowned =
    (plan.affectedClusters ?? []).length === 0 ||
    plan.findings.some((f) => f.code === "STALE_SOURCES") ||
    plan.changes.some((c) => c.reason === FOREIGN_RULE);
  for (const change of plan.changes) {
    const m = change.clusterId === undefined ? undefined : modes.get(clusterKey(change.clusterId));
    if (m !== undefined) consider(m);
    else if (change.clusterId !== undefined) unowned = true;
  }
  // Changes that belong to no served cluster (stale or foreign rules, a layout move) follow the global mode.
  if (unowned) consider(global);
  return mode;
}

/** The removal records still inside the window that ends at `now`. */
export function removalsWithin(
  records: readonly RemovalRecord[],
  now: Date,
  windowHours: number,
): RemovalRecord[] {
  const since = now.getTime() - windowHours * 3_600_000;
  return records.filter((r) => Date.parse(r.at) > since);
}

const pct = (n: number) => `${Math.round(n * 1000) / 10}%`;

/**
 * `mode` is the plan's effective mode (effectiveMode). `recentRemovals` are the unapproved removals
 * already applied within the rolling window: a plan that would take their sum past the share asks a
 * person, so many small removals cannot add up to a large one nobody approved.
 */
export function decide(
  plan: PlanForDecision,
  mode: Mode,
  settings: DecisionSettings,
  recentRemovals: readonly RemovalRecord[] = [],
): Decision {
  if (plan.action === "none") return { outcome: "none", mode, reasons: ["no drift"] };
  if (mode === "audit")
    return { outcome: "report", mode, reasons: ["audit mode: drift is reported, never applied"] };
  const reasons: string[] = [];
  if (mode === "approve") reasons.push("approve mode: every change is approved by a person");
  const { removed, managedRulesBefore } = plan.risk;
  if (settings.removalsNeedApproval && removed > 0) {
    reasons.push(`the plan removes ${removed} rule(s), and removals need approval`);
  }
  if (plan.risk.removedShare > settings.maxRemovedShare) {
    reasons.push(
      `the plan removes ${pct(plan.risk.removedShare)} of the managed rules, more than the ${pct(settings.maxRemovedShare)} allowed without approval`,
    );
  } else if (removed > 0 && recentRemovals.length > 0) {
    // Measured against the largest group seen in the window, so removals shrinking the group do not
    // shrink the yardstick with it.
    const earlier = recentRemovals.reduce((n, r) => n + r.removed, 0);
    const yardstick = Math.max(managedRulesBefore, ...recentRemovals.map((r) => r.before));
    const share = yardstick === 0 ? 0 : (earlier + removed) / yardstick;
    if (share > settings.maxRemovedShare)
      reasons.push(
        `with the ${earlier} rule(s) removed without approval earlier in the window, this plan would remove ${pct(share)} of the managed rules, more than the ${pct(settings.maxRemovedShare)} allowed without approval`,
      );
  }
  if (reasons.length > 0) return { outcome: "approve", mode, reasons };
  return {
    outcome: "apply",
    mode,
    reasons: [
      removed > 0
        ? "auto mode: removals within the allowed share"
        : "auto mode: the plan adds or changes rules only",
    ],
  };
}
