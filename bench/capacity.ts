// `npm run bench -- capacity --clusters N [--runs R] [--json]`: what the managed group of a fleet of
// N clusters takes (workers/capacity.ts) against Azure's limits, and what planning it costs. With
// --json, one line: {clusters, regions, featureSets, groups: [{name, bytes, ruleCollections, rules}],
// networkPairs, planMs, firstPlanMs, serialiseMs, planToSerialise, peakRssMb}.
import { GROUP_RULES_LIMIT_BYTES, NETWORK_PAIRS_LIMIT, POLICY_COLLECTIONS_LIMIT } from "../drift/limits";
import { type BenchTable, fmt, terminalTable } from "./lib/report";
import { runWorker } from "./lib/worker";
import type { CapacityArgs, CapacityResult } from "./workers/capacity";

export const CAPACITY_USAGE = "npm run bench -- capacity --clusters N [--runs R (3)] [--json]";

export async function capacity(clusters: number, runs = 3): Promise<CapacityResult> {
  return runWorker<CapacityResult>("capacity", { clusters, runs } satisfies CapacityArgs, {
    timeoutMs: 120_000,
  });
}

export async function capacityCommand(argv: readonly string[]): Promise<void> {
  let clusters: number | undefined;
  let runs = 3;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = (argv[i] ?? "").split("=", 2);
    const value = () => Number(inline ?? argv[++i]);
    if (name === "--clusters") clusters = value();
    else if (name === "--runs") runs = value();
    else if (name === "--json") json = true;
    else throw new Error(`capacity: unknown option ${name}; usage: ${CAPACITY_USAGE}`);
  }
  if (
    clusters === undefined ||
    !Number.isInteger(clusters) ||
    clusters < 1 ||
    !Number.isInteger(runs) ||
    runs < 1
  )
    throw new Error(`capacity: --clusters (and --runs) must be positive integers; usage: ${CAPACITY_USAGE}`);
  const result = await capacity(clusters, runs);
  if (json) {
    const { outcome: _outcome, ...line } = result;
    process.stdout.write(`${JSON.stringify(line)}\n`);
    if (result.outcome !== "planned") process.stderr.write(`${result.outcome}\n`);
    return;
  }
  const group = result.groups[0];
  const table: BenchTable = {
    title: `Capacity: ${result.clusters} clusters (${result.regions} regions × ${result.featureSets} feature sets)`,
    head: ["measure", "value", "Azure's limit"],
    rows: [
      ["outcome", result.outcome, ""],
      ["group bytes (as sent)", String(group?.bytes ?? "-"), String(GROUP_RULES_LIMIT_BYTES)],
      ["bytes per cluster", group ? String(Math.round(group.bytes / result.clusters)) : "-", ""],
      ["rule collections", String(group?.ruleCollections ?? "-"), `${POLICY_COLLECTIONS_LIMIT} per policy`],
      ["rules", String(group?.rules ?? "-"), ""],
      ["network source/destination pairs", String(result.networkPairs), String(NETWORK_PAIRS_LIMIT)],
      ["plan (ms, median of warm plans)", fmt.ms(result.planMs), ""],
      ["first plan of the fleet (ms, cold)", fmt.ms(result.firstPlanMs), ""],
      ["serialise the PUT body (ms, median once warm)", String(result.serialiseMs), ""],
      ["plan / serialise", result.serialiseMs > 0 ? result.planToSerialise.toFixed(1) : "-", "target ≤ 5"],
      ["peak RSS (MB)", String(result.peakRssMb), "target < 256"],
    ],
  };
  process.stdout.write(`${terminalTable(table)}\n`);
}
