// Benchmark 1, one run: K cluster events across M clusters on one firewall policy, with every
// firewall write taking L ms, handled either by the app (the real functions in the local host, with
// the real durable-functions replay) or by a naive baseline: one pass per event, either PUTting every
// time ("naive") or only when the pass's plan has changes ("naive-skip").
import fs from "node:fs";
import path from "node:path";
import type { FirewallPolicyRuleCollectionGroup } from "@azure/arm-network";
import { type ArmConnection, networkClient } from "../../azure/clients";
import { writeManagedGroup } from "../../azure/firewall";
import { FIREWALL_POLICY_TYPE, parseResourceId } from "../../azure/resource-id";
import { desiredGroup, type RuleCollectionGroup } from "../../drift";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import { type GatheredPolicy, gatherPolicy } from "../../orchestrations/activities/gather";
import { checkPolicy, type PassSettings, planGathered } from "../../orchestrations/activities/plan";
import { canonicalRules, countByKind, putTimeline, readsOf } from "../lib/arm-log";
import {
  addPool,
  appSettingsFor,
  type BenchCluster,
  connectionTo,
  estateSeed,
  makeClusters,
  POLICY_ID,
  passSettingsOf,
  syncPolicy,
} from "../lib/estate";
import { startBenchHost } from "../lib/host";
import { ROOT } from "../lib/paths";
import { workerMain } from "../lib/worker";

export interface BurstArgs {
  /**
   * "guard": the app. "naive": one pass and one PUT per event. "naive-skip": one pass per event, which
   * plans first and PUTs only when the plan has changes.
   */
  design: "guard" | "naive" | "naive-skip";
  k: number;
  m: number;
  lroDelayMs: number;
  debounceSeconds: number;
  /** Event deliveries in flight at once (Event Grid delivers in parallel). */
  concurrency: number;
  timeoutMs: number;
}

export interface BurstResult {
  design: BurstArgs["design"];
  k: number;
  m: number;
  clustersChanged: number;
  /** From the first change to the last event handed over. */
  deliverMs: number;
  passes: number;
  puts: number;
  /** Writes refused with 409/429 (another write running). */
  busy: number;
  reads: number;
  polls: number;
  /** From the first change until the first PUT is sent (the write starts): what a debounce delays. */
  firstPutMs: number | null;
  /** From the first change until the firewall first holds the final rules (the PUT that carried them lands). */
  firstCorrectMs: number | null;
  /** Which PUT (1 = the first) first carried the final rules. */
  firstCorrectPut: number | null;
  /** From the first change until the last write lands (the policy is no longer Updating). */
  settledMs: number | null;
  /** A fresh plan after the run finds no drift. */
  verified: boolean;
}

const EVENT_FIXTURE = path.join(ROOT, "test", "fixtures", "events", "cluster-write.eventgrid.json");

function clusterWriteEvent(template: string, cluster: BenchCluster, i: number): unknown {
  const event = JSON.parse(template) as {
    id: string;
    subject: string;
    topic: string;
    eventTime: string;
    data: {
      resourceUri: string;
      subscriptionId: string;
      authorization: { scope: string };
    };
  };
  const subscription = cluster.id.split("/")[2] ?? "";
  event.id = `bench-${process.pid}-${i}`;
  event.subject = cluster.id;
  event.topic = `/subscriptions/${subscription}`;
  event.eventTime = new Date().toISOString();
  event.data.resourceUri = cluster.id;
  event.data.subscriptionId = subscription;
  event.data.authorization.scope = cluster.id;
  return event;
}

const changedOf = (args: BurstArgs, clusters: readonly BenchCluster[]) =>
  new Set(Array.from({ length: args.k }, (_, i) => i % clusters.length)).size;

async function measureAfter(
  emulator: ArmEmulator,
  settings: PassSettings,
  args: BurstArgs,
  t0: number,
  passes: number,
  deliverMs: number,
  clustersChanged: number,
): Promise<BurstResult> {
  const entries = emulator.requests();
  const counts = countByKind(entries);
  const timeline = putTimeline(entries);
  const managed = emulator
    .state()
    .ruleCollectionGroups.find((g) => String(g.name).toLowerCase() === settings.groupName.toLowerCase());
  const properties = (managed?.properties ?? {}) as { priority?: number; ruleCollections?: unknown };
  const final = canonicalRules(properties.priority ?? 0, properties.ruleCollections ?? []);
  const firstCorrect = timeline.puts.findIndex((p) => p.body === final);
  const first = timeline.puts[firstCorrect];
  const last = timeline.puts.at(-1);
  const { plan } = await checkPolicy(connectionTo(emulator), POLICY_ID, settings);
  return {
    design: args.design,
    k: args.k,
    m: args.m,
    clustersChanged,
    deliverMs,
    passes,
    puts: timeline.puts.length,
    busy: timeline.busy,
    reads: readsOf(counts),
    polls: counts["LRO poll"],
    firstPutMs: timeline.puts[0] ? timeline.puts[0].atMs - t0 : null,
    firstCorrectMs: first ? first.atMs + args.lroDelayMs - t0 : null,
    firstCorrectPut: first ? firstCorrect + 1 : null,
    settledMs: last ? last.atMs + args.lroDelayMs - t0 : null,
    verified: plan.action === "none",
  };
}

async function runGuard(args: BurstArgs, emulator: ArmEmulator, clusters: BenchCluster[]) {
  const appSettings = appSettingsFor(emulator, args.debounceSeconds);
  const settings = passSettingsOf(appSettings);
  await syncPolicy(emulator, settings, args.lroDelayMs);
  const app = await startBenchHost(appSettings);
  try {
    emulator.clearRequests();
    const template = fs.readFileSync(EVENT_FIXTURE, "utf8");
    const t0 = Date.now();
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < args.k; i++) {
      const cluster = clusters[i % clusters.length] as BenchCluster;
      addPool(emulator, cluster, i);
      const sending = app
        .sendEvent(clusterWriteEvent(template, cluster, i))
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
      if (inFlight.size >= args.concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const deliverMs = Date.now() - t0;
    await app.settle(args.timeoutMs);
    return await measureAfter(
      emulator,
      settings,
      args,
      t0,
      app.count("PassStarted"),
      deliverMs,
      changedOf(args, clusters),
    );
  } finally {
    await app.close();
  }
}

/**
 * The naive designs: no debounce. Each event, in arrival order and one at a time (the policy takes
 * one write at a time), gets a full pass: read the clusters and the policy (the app's own
 * gatherPolicy), then
 * - "naive": render the whole desired group (the app's own desiredGroup) and PUT it, changed or not
 *   (`putEveryTime`: the app's writer would skip it, see there);
 * - "naive-skip" (`skipUnchanged`): plan (the app's own planGathered, which renders the same group and
 *   compares it with the group as read) and write the plan's body with the app's own writer
 *   (writeManagedGroup: waits while the policy is busy, then the long-running PUT) only when the
 *   plan has changes.
 * No verifying re-read.
 */
async function runNaive(
  args: BurstArgs,
  emulator: ArmEmulator,
  clusters: BenchCluster[],
  skipUnchanged: boolean,
) {
  const settings = passSettingsOf(appSettingsFor(emulator, 0));
  await syncPolicy(emulator, settings, args.lroDelayMs);
  const connection = connectionTo(emulator);
  const queue: number[] = [];
  let delivered = false;
  let deliverMs = 0;
  let wake: (() => void) | undefined;

  const t0 = Date.now();
  const producer = (async () => {
    for (let i = 0; i < args.k; i++) {
      addPool(emulator, clusters[i % clusters.length] as BenchCluster, i);
      queue.push(i);
      wake?.();
      await new Promise((r) => setImmediate(r));
    }
    deliverMs = Date.now() - t0;
    delivered = true;
    wake?.();
  })();

  let passes = 0;
  for (;;) {
    if (queue.length === 0) {
      if (delivered) break;
      await new Promise<void>((r) => {
        wake = r;
      });
      continue;
    }
    queue.shift();
    passes += 1;
    const gathered = await gatherPolicy(connection, POLICY_ID, settings);
    if (skipUnchanged) {
      const { body } = planGathered(gathered, settings);
      // A plan with no changes has no body: nothing to write.
      if (body !== undefined) await writeManagedGroup(connection, POLICY_ID, settings.groupName, body);
    } else {
      await putEveryTime(connection, renderAll(gathered, settings));
    }
  }
  await producer;
  return measureAfter(emulator, settings, args, t0, passes, deliverMs, changedOf(args, clusters));
}

/** The whole desired group for what was gathered, whatever the group as read holds. */
function renderAll(gathered: GatheredPolicy, settings: PassSettings): RuleCollectionGroup {
  const current = gathered.policy.groups.find(
    (g) => g.name.toLowerCase() === settings.groupName.toLowerCase(),
  );
  return desiredGroup(gathered.clusters, current, settings, {
    dnsProxyEnabled: gathered.policy.dnsProxyEnabled,
  }).group;
}

/**
 * One PUT of the group and its long-running operation, with the SDK client the app uses. Not the
 * app's writeManagedGroup: that reads the group first and sends no PUT when the group already holds
 * the body, which would make this baseline skip unchanged writes too. The naive loop runs one write
 * at a time and waits for each, so the policy is never busy when it PUTs ("409s" shows it).
 */
async function putEveryTime(connection: ArmConnection, group: RuleCollectionGroup): Promise<void> {
  const policy = parseResourceId(POLICY_ID, FIREWALL_POLICY_TYPE);
  const body = {
    priority: group.priority,
    ruleCollections: group.ruleCollections,
  } as unknown as FirewallPolicyRuleCollectionGroup;
  await networkClient(
    connection,
    policy.subscriptionId,
  ).firewallPolicyRuleCollectionGroups.beginCreateOrUpdateAndWait(
    policy.resourceGroup,
    policy.name,
    group.name,
    body,
    connection.pollIntervalMs !== undefined ? { updateIntervalInMs: connection.pollIntervalMs } : {},
  );
}

workerMain<BurstArgs, BurstResult>(async (args) => {
  const clusters = makeClusters(args.m);
  const emulator = await startArmEmulator({ seed: estateSeed(clusters), lroDelayMs: args.lroDelayMs });
  try {
    return args.design === "guard"
      ? await runGuard(args, emulator, clusters)
      : await runNaive(args, emulator, clusters, args.design === "naive-skip");
  } finally {
    await emulator.close();
  }
});
