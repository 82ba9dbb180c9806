// Capacity, one size: the managed group a fleet of n clusters needs (10 regions × 8 feature sets,
// the default catalog), planned from an empty group on a policy with other teams' groups, in a fresh
// process (so peak RSS is this size's alone). Run with --expose-gc.
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
  planMs: number;
  serialiseMs: number;
  peakRssMb: number;
  /** "planned", or the refusal's message when a limit is exceeded. */
  outcome: string;
}

const gc = () => (globalThis as { gc?: () => void }).gc?.();

workerMain<CapacityArgs, CapacityResult>(async (args) => {
  const clusters = fleet(args.clusters);
  const policy: PolicySnapshot = { id: POLICY_ID, dnsProxyEnabled: true, groups: foreignGroups(FOREIGN_10K) };
  // Warm-up: loads the catalog and JITs the code paths, as a warm host would have.
  planPolicy({ clusters: fleet(20), policy, settings: MANAGED });

  const planTimes: number[] = [];
  const serialiseTimes: number[] = [];
  let result: Pick<CapacityResult, "groups" | "networkPairs" | "outcome"> = {
    groups: [],
    networkPairs: 0,
    outcome: "",
  };
  for (let run = 0; run < args.runs; run++) {
    gc();
    const t0 = performance.now();
    try {
      const plan = planPolicy({ clusters, policy, settings: MANAGED });
      planTimes.push(performance.now() - t0);
      const body = plan.body;
      if (body === undefined) throw new Error("an empty group planned no write");
      const t1 = performance.now();
      JSON.stringify(body);
      serialiseTimes.push(performance.now() - t1);
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
    } catch (error) {
      planTimes.push(performance.now() - t0);
      if (!isGuardError(error, "PLAN_EXCEEDS_LIMITS")) throw error;
      result = { groups: [], networkPairs: 0, outcome: `refused: ${error.message}` };
    }
  }
  return {
    clusters: args.clusters,
    regions: REGIONS.length,
    featureSets: FEATURE_SETS.length,
    ...result,
    planMs: Math.round(median(planTimes) * 10) / 10,
    serialiseMs: Math.round(median(serialiseTimes) * 100) / 100,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
});
