// `npm run bench -- reads --clusters N [--subscriptions S] [--per-policy P] [--json]`: the ARM reads of
// one pass against an estate of N clusters (workers/reads.ts). With --json, one line:
// {clusters, subscriptions, groups, armReadsNoDrift, armReadsWritingPass, servedClusters}.
import { KINDS } from "./lib/arm-log";
import { type BenchTable, fmt, machine, terminalTable } from "./lib/report";
import { runWorker } from "./lib/worker";
import type { ReadsArgs, ReadsResult } from "./workers/reads";

export const READS_USAGE =
  "npm run bench -- reads --clusters N [--subscriptions S (2)] [--per-policy P (N: the policy serves every cluster)] [--json]";

interface ReadsOptions {
  clusters: number;
  subscriptions: number;
  perPolicy: number;
  json: boolean;
}

function positive(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name}: expected a positive integer, got "${text ?? ""}"`);
  return value;
}

function parseReads(argv: readonly string[]): ReadsOptions {
  const options: Partial<ReadsOptions> = { subscriptions: 2, json: false };
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = (argv[i] ?? "").split("=", 2);
    const value = () => inline ?? argv[++i];
    if (name === "--clusters") options.clusters = positive(name, value());
    else if (name === "--subscriptions") options.subscriptions = positive(name, value());
    else if (name === "--per-policy") options.perPolicy = positive(name, value());
    else if (name === "--json") options.json = true;
    else throw new Error(`reads: unknown option ${name}; usage: ${READS_USAGE}`);
  }
  if (options.clusters === undefined) throw new Error(`reads: --clusters is required; usage: ${READS_USAGE}`);
  // The shared layout holds thousands of clusters in one group, so by default one policy serves the
  // whole estate: the pass plans, writes and verifies for all N (an end-to-end pass at N).
  options.perPolicy ??= options.clusters;
  return options as ReadsOptions;
}

/** The target of the fleet-scale issue: a no-drift pass reads at most this, whatever the cluster count. */
export const readsTarget = (subscriptions: number, groups: number) => 5 + 2 * subscriptions + groups;

export async function readsCommand(argv: readonly string[]): Promise<void> {
  const options = parseReads(argv);
  const result = await runWorker<ReadsResult>(
    "reads",
    {
      clusters: options.clusters,
      subscriptions: options.subscriptions,
      perPolicy: options.perPolicy,
      timeoutMs: 120_000,
    } satisfies ReadsArgs,
    { timeoutMs: 180_000 },
  );
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({
        clusters: result.clusters,
        subscriptions: result.subscriptions,
        groups: result.groups,
        armReadsNoDrift: result.noDrift.reads,
        armReadsWritingPass: result.writing.reads,
        servedClusters: result.served,
      })}\n`,
    );
    return;
  }
  const target = readsTarget(result.subscriptions, result.groups);
  const shown = KINDS.filter(
    (k) =>
      k !== "other" && k !== "LRO poll" && (result.noDrift.counts[k] > 0 || result.writing.counts[k] > 0),
  );
  const row = (label: string, pass: ReadsResult["noDrift"]) => [
    label,
    pass.outcome,
    ...shown.map((k) => fmt.int(pass.counts[k])),
    fmt.int(pass.reads),
    fmt.s(pass.passMs),
  ];
  const table: BenchTable = {
    title:
      `ARM reads of one pass: ${fmt.int(result.clusters)} clusters in ${result.subscriptions} subscription(s), ` +
      `${fmt.int(result.served)} served by the policy, ${result.groups} managed group(s)`,
    head: ["pass", "outcome", ...shown, "reads", "pass (s)"],
    rows: [row("in step", result.noDrift), row("one cluster gained a pool", result.writing)],
  };
  const host = machine();
  process.stdout.write(`${terminalTable(table)}\n`);
  process.stdout.write(
    `target: a no-drift pass reads at most 5 + 2 × ${result.subscriptions} + ${result.groups} = ${target}: ` +
      `${result.noDrift.reads <= target ? "met" : "MISSED"} (${result.noDrift.reads}). ` +
      `Machine: ${host.cpu}, ${host.cores} cores, Node ${host.node}.\n`,
  );
}
