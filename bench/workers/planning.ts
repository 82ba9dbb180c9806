// Benchmark 2, one size: plan n clusters against a policy with many foreign rules, in a fresh
// process (so peak RSS is this size's alone).
// - "shipped": drift/plan.ts planPolicy as the app calls it. Past Azure's 2 MB per group it refuses
//   (PLAN_EXCEEDS_LIMITS) once the desired group is rendered; the time is then the time to refuse.
// Run with --expose-gc: the garbage of one run is collected before the next.
// - "pipeline": the same steps without the size check, from drift's exported pieces, each timed:
//   render the desired group, compare (sameGroup + diffGroups), check for shadowing Deny rules, hash.
import { performance } from "node:perf_hooks";
import {
  clusterKey,
  type DiffContext,
  desiredGroup,
  diffGroups,
  findShadowing,
  type PolicySnapshot,
  planHash,
  planPolicy,
  rulesSize,
  sameGroup,
} from "../../drift";
import { isGuardError } from "../../errors";
import {
  FOREIGN_10K,
  fleet,
  foreignGroups,
  foreignRuleCount,
  MANAGED,
  managedGroupAsRead,
} from "../lib/fleet";
import { POLICY_ID } from "../lib/ids";
import { workerMain } from "../lib/worker";

export interface PlanningArgs {
  n: number;
  mode: "shipped" | "pipeline";
  /** Timed runs wanted; fewer when one run takes longer than budgetMs. */
  runs: number;
  budgetMs: number;
}

export interface PlanningResult {
  n: number;
  mode: PlanningArgs["mode"];
  timesMs: number[];
  /** For "pipeline": median per stage. */
  stagesMs?: { render: number; diff: number; shadowing: number; hash: number };
  outcome: string;
  managedRules: number;
  desiredBytes: number;
  foreignRules: number;
  foreignDeny: number;
  /** RSS once the input was built, and the process's peak, in MiB. */
  inputRssMiB: number;
  peakRssMiB: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

workerMain<PlanningArgs, PlanningResult>(async (args) => {
  const clusters = fleet(args.n);
  const others = foreignGroups(FOREIGN_10K);
  const current = managedGroupAsRead(clusters);
  const policy: PolicySnapshot = { id: POLICY_ID, dnsProxyEnabled: true, groups: [...others, current] };
  const foreign = foreignRuleCount(others);

  // Warm-up on a small fleet: loads the catalog and JITs the code paths, as a warm host would have.
  const small = fleet(5);
  planPolicy({
    clusters: small,
    policy: { ...policy, groups: [...others, managedGroupAsRead(small)] },
    settings: MANAGED,
  });
  (globalThis as { gc?: () => void }).gc?.();
  const inputRssMiB = process.memoryUsage().rss / 1024 / 1024;

  const timesMs: number[] = [];
  const stages: { render: number; diff: number; shadowing: number; hash: number }[] = [];
  let outcome = "";
  let managedRules = 0;
  let desiredBytes = 0;
  const started = performance.now();
  while (
    timesMs.length < args.runs &&
    (timesMs.length === 0 || performance.now() - started < args.budgetMs)
  ) {
    // Collect the previous run's garbage first (untimed), so that peak RSS is one plan's, not several.
    (globalThis as { gc?: () => void }).gc?.();
    if (args.mode === "shipped") {
      const t = performance.now();
      try {
        const plan = planPolicy({ clusters, policy, settings: MANAGED });
        timesMs.push(performance.now() - t);
        outcome = `plan: ${plan.changes.length} changes, ${plan.findings.length} findings`;
        if (plan.body) {
          managedRules = plan.body.ruleCollections.reduce((n, c) => n + (c.rules?.length ?? 0), 0);
          desiredBytes = rulesSize(plan.body);
        }
      } catch (error) {
        timesMs.push(performance.now() - t);
        if (!isGuardError(error, "PLAN_EXCEEDS_LIMITS")) throw error;
        outcome = "refused: PLAN_EXCEEDS_LIMITS";
        desiredBytes = Number(error.details.size ?? 0);
      }
    } else {
      const t0 = performance.now();
      const body = desiredGroup(clusters, current, MANAGED, { dnsProxyEnabled: true }).group;
      const t1 = performance.now();
      const context: DiffContext = {
        presentClusters: new Set(clusters.map((c) => clusterKey(c.id))),
        dnsProxyEnabled: true,
      };
      const changes = sameGroup(current, body) ? [] : diffGroups(current, body, context);
      const t2 = performance.now();
      const findings = findShadowing(body, others);
      const t3 = performance.now();
      planHash(body);
      const t4 = performance.now();
      timesMs.push(t4 - t0);
      stages.push({ render: t1 - t0, diff: t2 - t1, shadowing: t3 - t2, hash: t4 - t3 });
      outcome = `${changes.length} changes, ${findings.length} findings`;
      managedRules = body.ruleCollections.reduce((n, c) => n + (c.rules?.length ?? 0), 0);
      desiredBytes = rulesSize(body);
    }
  }
  return {
    n: args.n,
    mode: args.mode,
    timesMs,
    ...(stages.length > 0
      ? {
          stagesMs: {
            render: median(stages.map((s) => s.render)),
            diff: median(stages.map((s) => s.diff)),
            shadowing: median(stages.map((s) => s.shadowing)),
            hash: median(stages.map((s) => s.hash)),
          },
        }
      : {}),
    outcome,
    managedRules,
    desiredBytes,
    foreignRules: foreign.rules,
    foreignDeny: foreign.deny,
    inputRssMiB,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
});
