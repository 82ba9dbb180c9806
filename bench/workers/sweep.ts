// Benchmark 4, one run: the ARM requests of one full sweep of a policy serving N clusters, through
// the app in the local host (the sweep timer run on demand, then the reconciler's pass), counted by
// kind from the ARM emulator's request log.
// - "in step": the policy already holds what every cluster needs: the pass only reads.
// - "one changed": one cluster gained a pool since: the pass plans, writes once and verifies.
import { startArmEmulator } from "../../local/arm-emulator";
import { countByKind, passLines, type RequestKind, readsOf } from "../lib/arm-log";
import { addPool, appSettingsFor, estateSeed, makeClusters, passSettingsOf, syncPolicy } from "../lib/estate";
import { startBenchHost } from "../lib/host";
import { workerMain } from "../lib/worker";

export interface SweepArgs {
  n: number;
  changed: boolean;
  lroDelayMs: number;
  timeoutMs: number;
}

export interface SweepResult {
  n: number;
  changed: boolean;
  counts: Record<RequestKind, number>;
  reads: number;
  passMs: number;
  outcome: string;
}

workerMain<SweepArgs, SweepResult>(async (args) => {
  const clusters = makeClusters(args.n);
  const emulator = await startArmEmulator({ seed: estateSeed(clusters), lroDelayMs: args.lroDelayMs });
  try {
    const appSettings = appSettingsFor(emulator, 0);
    await syncPolicy(emulator, passSettingsOf(appSettings), args.lroDelayMs);
    if (args.changed && clusters[0]) addPool(emulator, clusters[0], 0);
    const app = await startBenchHost(appSettings);
    try {
      emulator.clearRequests();
      await app.runTimer("sweep");
      await app.settle(args.timeoutMs, 500);
      const counts = countByKind(emulator.requests());
      const { lines, outcome } = passLines(app.logs);
      const started = Date.parse(lines[0]?.time ?? "");
      return {
        n: args.n,
        changed: args.changed,
        counts,
        reads: readsOf(counts),
        passMs: Date.parse(lines.at(-1)?.time ?? "") - started,
        outcome,
      };
    } finally {
      await app.close();
    }
  } finally {
    await emulator.close();
  }
});
