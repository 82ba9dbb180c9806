// Capacity, one size: the managed group a fleet of n clusters needs (10 regions × 8 feature sets,
// the default catalog), planned from an empty group on a policy with other teams' groups, in a fresh
// process (so peak RSS is this size's alone).
import { performance } from "node:perf_hooks";
import { networkPairs, type PolicySnapshot, planPolicy, rulesSize } from "../../drift";
import { isGuardError } from "../../errors";
import { FEATURE_SETS, FOREIGN_10K, fleet, foreignGroups, MANAGED, REGIONS } from "../lib/fleet";
import { POLICY_ID } from "../lib/ids";
import { median } from "../lib/report";
import { workerMain } from "../lib/worker";

export interface CapacityArgs {
  clusters: number;
  /** Timed plans; the median is reported. */
  runs: number;
}

export interface CapacityResult {
  clusters: number;
  regions: number;
  featureSets: number;
  groups: { name: string; bytes: number; ruleCollections: number; rules: number }[];
  networkPairs: number;
  /** Median of the timed plans, after the untimed warm-up (WARM_PLANS, WARM_MS). */
  planMs: number;
  /** The first plan of the full fleet: renders what the small warm-up did not, on code not yet compiled. */
  firstPlanMs: number;
  /** Median JSON.stringify of the PUT body, once warmed up (SERIALISE_RUNS per plan). */
  serialiseMs: number;
  /** planMs / serialiseMs, the target being ≤ 5. */
  planToSerialise: number;
  peakRssMb: number;
  /** "planned", or the refusal's message when a limit is exceeded. */
  outcome: string;
}

/**
 * Untimed plans of the full fleet before the timed ones, for at least WARM_MS and WARM_PLANS: a warm
 * host has planned its policies before, and V8 compiles the planning code (in the background) only
 * after it has run a while at this size.
 */
const WARM_PLANS = 5;
const WARM_MS = 2000;
/** Serialisations of each plan's body: the first few untimed (as a warm host has done them), then timed. */
const SERIALISE_WARMUP = 3;
const SERIALISE_RUNS = 9;

workerMain<CapacityArgs, CapacityResult>(async (args) => {
  const clusters = fleet(args.clusters);
  const policy: PolicySnapshot = { id: POLICY_ID, dnsProxyEnabled: true, groups: foreignGroups(FOREIGN_10K) };
  const plan = () => {
    const t0 = performance.now();
    try {
      const planned = planPolicy({ clusters, policy, settings: MANAGED });
      return { ms: performance.now() - t0, body: planned.body };
    } catch (error) {
      if (!isGuardError(error, "PLAN_EXCEEDS_LIMITS")) throw error;
      return { ms: performance.now() - t0, refusal: error.message };
    }
  };
  // Loads the catalog and runs the code paths once, on a small fleet.
  planPolicy({ clusters: fleet(20), policy, settings: MANAGED });
  // The first plan of the full fleet renders the inputs the small one did not, on code still warming up.
  const firstPlanMs = plan().ms;
  const warmFrom = performance.now();
  for (let i = 0; i < WARM_PLANS || performance.now() - warmFrom < WARM_MS; i++) plan();
  // No forced collection between plans: V8's (testing) gc() also drops optimised code, so a plan
  // right after one would mostly time recompiling the planner.

  const planTimes: number[] = [];
  const serialiseTimes: number[] = [];
  let result: Pick<CapacityResult, "groups" | "networkPairs" | "outcome"> = {
    groups: [],
    networkPairs: 0,
    outcome: "",
  };
  for (let run = 0; run < args.runs; run++) {
    const { ms, body, refusal } = plan();
    planTimes.push(ms);
    if (refusal !== undefined) {
      result = { groups: [], networkPairs: 0, outcome: `refused: ${refusal}` };
      continue;
    }
    if (body === undefined) throw new Error("an empty group planned no write");
    for (let i = 0; i < SERIALISE_WARMUP; i++) JSON.stringify(body);
    for (let i = 0; i < SERIALISE_RUNS; i++) {
      const t1 = performance.now();
      JSON.stringify(body);
      serialiseTimes.push(performance.now() - t1);
    }
    result = {
      groups: [
        {
          name: body.name,
          bytes: rulesSize(body),
          ruleCollections: body.ruleCollections.length,
          rules: body.ruleCollections.reduce((n, c) => n + (c.rules?.length ?? 0), 0),
        },
      ],
      networkPairs: networkPairs(body),
      outcome: "planned",
    };
  }
  const planMs = median(planTimes);
  const serialiseMs = median(serialiseTimes);
  return {
    clusters: args.clusters,
    regions: REGIONS.length,
    featureSets: FEATURE_SETS.length,
    ...result,
    planMs: Math.round(planMs * 10) / 10,
    firstPlanMs: Math.round(firstPlanMs * 10) / 10,
    serialiseMs: Math.round(serialiseMs * 100) / 100,
    planToSerialise: serialiseMs > 0 ? Math.round((planMs / serialiseMs) * 10) / 10 : 0,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
});
