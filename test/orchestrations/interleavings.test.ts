// Property tests on interleavings (issue 15): the reconciler orchestrator, run by durable-functions'
// own replay code on generated histories (./history-builder.ts, generators in
// ./interleaving-arbitraries.ts), keeps its invariants whatever the order of activity completions,
// timer firings (cancelled ones included), raised events (duplicates included) and batch boundaries:
//   1. every "changed" event is handled exactly once: counted in this pass's reasons (processed
//      before the debounce window closed), read by a re-plan while an approval waits (processed
//      before that re-plan was scheduled), or carried into the continue-as-new input (count exact;
//      the reasons themselves while they fit); never lost, never counted twice;
//   2. the custom status stays under 8,000 JSON characters in every episode, whatever the burst or
//      the text lengths;
//   3. replay is deterministic: on the history plus the next batch, the orchestrator emits the same
//      scheduled activities (names and inputs) and timers, in the same order, as the history recorded
//      (and the local engine's model of the extension's replay agrees on which work is new);
//   4. at most one decision per approval, taken only on a decision whose proof verifyDecision
//      confirmed; applyPlan after an approval request only on such an "approve", and without one only
//      when the rules allow it.
// The runs are seeded: a failure prints the seed, the shrunk counterexample and its history; replay
// it with `FC_SEED=<seed> npx vitest run test/orchestrations/interleavings.test.ts`.
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventType } from "../../local/durable/history";
import type { GatherOutput } from "../../orchestrations/activity-names";
import type { PassRecord, ReconcilerInput, ReconcilerStatus } from "../../orchestrations/reconciler";
import type { ReconcilerSettings } from "../../orchestrations/reconciler-settings";
import {
  checkExecution,
  describeHistory,
  type Scenario,
  type SimulationResult,
  STATUS_BUDGET,
  type Step,
  simulate,
  situations,
} from "./history-builder";
import { approvalWaitScenarioArb, burstScenarioArb, scenarioArb } from "./interleaving-arbitraries";

const SEED = process.env.FC_SEED === undefined ? 1_500_015 : Number(process.env.FC_SEED);

function report(result: SimulationResult): string {
  const lines = [...result.violations];
  result.executions.forEach((rec, i) => {
    lines.push(
      `--- execution ${i + 1}, input ${JSON.stringify({ ...rec.input, settings: undefined }).slice(0, 600)}`,
      describeHistory(rec),
    );
    if (rec.continueAsNew)
      lines.push(
        `continue-as-new: ${JSON.stringify({ ...rec.continueAsNew, settings: undefined }).slice(0, 1500)}`,
      );
  });
  return lines.join("\n");
}

/** Runs a scenario; throws (for fast-check to shrink) with the violations and the histories. */
function holding(tally: Map<string, number>) {
  return async (scenario: Scenario): Promise<boolean> => {
    const result = await simulate(scenario);
    for (const s of situations(result)) tally.set(s, (tally.get(s) ?? 0) + 1);
    if (result.violations.length > 0) throw new Error(report(result));
    return true;
  };
}

/** The generators must reach these, or the properties prove little (counts of runs, default seed). */
function expectReached(tally: Map<string, number>, wanted: string[]): void {
  if (process.env.FC_SEED !== undefined) return;
  const missing = wanted.filter((s) => (tally.get(s) ?? 0) < 2);
  expect(missing, `situations reached: ${JSON.stringify(Object.fromEntries(tally))}`).toEqual([]);
}

describe("the reconciler on generated interleavings (durable-functions replay)", () => {
  it("keeps invariants 1-4 whatever the order of completions, timers, events and batches", async () => {
    const tally = new Map<string, number>();
    await fc.assert(fc.asyncProperty(scenarioArb, holding(tally)), { seed: SEED, numRuns: 150 });
    expectReached(tally, [
      "idle start",
      "continued as new",
      "approval requested",
      "proof verified true",
      "proof verified false",
      "decided approve",
      "pass rejected",
      "pass applied",
      "pass expired",
      "pass failed",
      "pass superseded",
      "reasons carried over",
      "events after continue-as-new",
      "duplicate event",
      "duplicate delivery",
    ]);
  }, 120_000);

  it("keeps them while an approval waits: re-plans, decisions and change events in any order", async () => {
    const tally = new Map<string, number>();
    await fc.assert(fc.asyncProperty(approvalWaitScenarioArb, holding(tally)), { seed: SEED, numRuns: 120 });
    expectReached(tally, [
      "re-plan while awaiting approval",
      "event during a re-plan",
      "decided approve",
      "pass rejected",
      "pass superseded",
      "pass expired",
    ]);
  }, 120_000);

  it("keeps its custom status bounded and counts every event of a burst of hundreds", async () => {
    await fc.assert(fc.asyncProperty(burstScenarioArb, holding(new Map())), { seed: SEED, numRuns: 25 });
  }, 120_000);
});

// Hand-written histories: the counterexamples the properties found, and the checks themselves.
const SETTINGS: ReconcilerSettings = {
  mode: "approve",
  removalsNeedApproval: true,
  maxRemovedShare: 0.5,
  removalWindowHours: 24,
  approvalTimeoutMinutes: 30,
  debounceSeconds: 0,
};
const INPUT: ReconcilerInput = {
  policyId: "policy",
  pass: 7,
  pending: [{ source: "sweep", detail: "periodic sweep" }],
  pendingCount: 1,
  settings: SETTINGS,
};
const asking = (change: string): GatherOutput => ({
  plan: {
    action: "put",
    hash: `hash-${change}`,
    baseHash: "base",
    changeHash: `change-${change}`,
    risk: { added: 1, removed: 0, changed: 0, managedRulesBefore: 3, removedShare: 0 },
    changes: 1,
    findings: 0,
    mode: "approve",
  },
  settings: SETTINGS,
  clusterCount: 1,
  clusterIds: ["aks-1"],
  summary: "Plan: 1 to add, 0 to remove.",
});
/** Deliver the one outstanding message, then end the batch. */
const deliver = (): Step[] => [
  { kind: "deliver", pick: 0, wait: true },
  { kind: "batch", advanceMs: 1000 },
];
/** Raise a change event in a batch of its own. */
const change = (): Step[] => [
  { kind: "change", detailLength: 10, eventIdLength: 12 },
  { kind: "batch", advanceMs: 1000 },
];

describe("interleavings found by the properties", () => {
  it("carries over an event raised during a re-plan that finds the change moved", async () => {
    // The pass asks for approval of change-a; an event starts a re-plan; a second event arrives
    // while the re-plan reads; the re-plan finds change-b (superseded). The second event must start
    // the next pass like any other, counted in its reasons.
    const result = await simulate({
      input: INPUT,
      answers: { gathers: [asking("a"), asking("b")], applies: [], published: [true] },
      steps: [
        { kind: "batch", advanceMs: 0 },
        ...deliver(), // the debounce window closes: gatherAndPlan
        ...deliver(), // the plan needs approval: requestApproval
        ...deliver(), // published: the wait begins
        ...change(), // an event: a re-plan when the (zero-second) window closes
        ...deliver(), // the window closes: gatherAndPlan again
        ...change(), // an event while the re-plan reads
        ...deliver(), // the re-plan finds another change: superseded
      ],
      maxExecutions: 1,
    });
    expect(result.executions[0]?.continueAsNew?.last?.outcome).toBe("superseded");
    expect(result.violations, report(result)).toEqual([]);
  });
});

describe("the custom status with five recent passes (2)", () => {
  const long = (prefix: string, n: number) => prefix.padEnd(n, "x");
  /** A rejected pass whose approver has `approver` characters and a 300-character comment. */
  const passRecord =
    (approver: number, comment: string) =>
    (pass: number): PassRecord => ({
      pass,
      completedAt: "2025-03-01T07:00:00.000Z",
      outcome: "rejected",
      summary: long(`rejected by ${long("approver ", approver)}`, 3_000),
      clusterCount: 100_000,
      changes: 100_000,
      catalog: "2026-06 (offered page)",
      approver: long("approver ", approver),
      decision: {
        approvalId: "00000000-0000-0000-0000-0000000000aa",
        decisionId: "00000000-0000-0000-0000-0000000000bb",
        decision: "reject",
        approver: long("approver ", approver),
        comment,
        at: "2025-03-01T06:59:00.000Z",
      },
    });
  /** Five ARM events' reasons, a long plan, the last pass and four older ones; a person rejects. */
  const run = (record: (pass: number) => PassRecord, approverLength: number) =>
    simulate({
      input: {
        ...INPUT,
        pending: Array.from({ length: 5 }, (_, i) => ({
          source: "event" as const,
          detail: long(`Microsoft.ContainerService/managedClusters/write #${i} `, 300),
          eventId: long(`event-${i}-`, 200),
        })),
        pendingCount: 300,
        last: record(6),
        recent: [6, 5, 4, 3, 2].map(record),
      },
      answers: {
        gathers: [{ ...asking("a"), summary: long("Plan: 1 to add, 0 to remove. ", 3_000) }],
        applies: [],
        published: [true],
      },
      steps: [
        { kind: "batch", advanceMs: 0 },
        ...deliver(), // the debounce window closes: gatherAndPlan
        ...deliver(), // the plan needs approval: requestApproval
        ...deliver(), // published: the wait begins
        {
          kind: "approval",
          target: "current",
          decision: "reject",
          valid: true,
          approverLength,
          commentLength: 300,
        },
        { kind: "batch", advanceMs: 1000 },
        ...deliver(), // verifyDecision: true; the pass is rejected
      ],
      maxExecutions: 1,
    });
  const statusesOf = (result: SimulationResult) =>
    result.executions[0]?.episodes.flatMap((e) => (e.customStatus ? [e.customStatus] : [])) ?? [];

  it("stays under the budget with the longest texts everywhere; the oldest passes give way first", async () => {
    // 256-character approvers and comments of quotes and backslashes, which JSON doubles.
    const result = await run(passRecord(256, `"\\'`.repeat(100)), 256);
    expect(result.violations, report(result)).toEqual([]);
    const statuses = statusesOf(result);
    expect(Math.max(...statuses.map((st) => JSON.stringify(st).length))).toBeLessThan(STATUS_BUDGET);
    const waiting = statuses.find((st) => st.phase === "awaiting-approval");
    expect(waiting?.pendingApproval).toBeDefined();
    const listed = (st: ReconcilerStatus | undefined) => st?.recent?.map((p) => p.pass) ?? [];
    expect(listed(waiting)).toEqual([6, 5, 4, 3, 2].slice(0, listed(waiting).length));
    const done = statuses.at(-1);
    expect(done).toMatchObject({ phase: "idle", last: { pass: 7, outcome: "rejected" } });
    expect(listed(done).length).toBeGreaterThanOrEqual(4);
    expect(listed(done)).toEqual([7, 6, 5, 4, 3].slice(0, listed(done).length));
    for (const p of done?.recent ?? []) {
      expect(p.summary.length).toBeLessThanOrEqual(160);
      expect(p.approver).toBeUndefined(); // once, in the decision
      expect(p.decision?.comment?.length).toBe(300);
    }
    // The input is not bounded like the status: it carries all five.
    expect(result.executions[0]?.continueAsNew?.recent?.map((p) => p.pass)).toEqual([7, 6, 5, 4, 3]);
  });

  it("lists all five, each decision with its approver and comment, once the pass is over", async () => {
    const result = await run(passRecord(40, long("CAB-1234: ", 300)), 40);
    expect(result.violations, report(result)).toEqual([]);
    const done = statusesOf(result).at(-1);
    expect(done?.recent?.map((p) => p.pass)).toEqual([7, 6, 5, 4, 3]);
    expect(done?.recent?.[0]?.decision).toMatchObject({ decision: "reject", comment: "c".repeat(300) });
    expect(done?.recent?.[1]?.decision).toMatchObject({ approver: long("approver ", 40) });
  });
});

describe("the checks catch what they are for", () => {
  it("a replay that schedules something else than the history recorded (3)", async () => {
    let runs = 0;
    const drifting: OrchestrationHandler = function* (context: OrchestrationContext) {
      runs += 1;
      yield context.df.createTimer(
        new Date(context.df.currentUtcDateTime.getTime() + 1000 * (1 + (runs % 7))),
      );
      yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 1000));
    };
    const result = await simulate({
      input: INPUT,
      answers: { gathers: [asking("a")], applies: [], published: [true] },
      steps: [{ kind: "batch", advanceMs: 0 }, ...deliver(), ...deliver()],
      orchestrator: drifting,
      crossCheckEngineReplay: false,
    });
    expect(result.violations.some((v) => v.includes("the SDK now emits"))).toBe(true);
  });

  it("a custom status over the budget (2)", async () => {
    const chatty: OrchestrationHandler = function* (context: OrchestrationContext) {
      context.df.setCustomStatus({ reasons: "r".repeat(9_000) });
      yield context.df.waitForExternalEvent("changed");
    };
    const result = await simulate({
      input: INPUT,
      answers: { gathers: [asking("a")], applies: [], published: [true] },
      steps: [{ kind: "batch", advanceMs: 0 }],
      orchestrator: chatty,
    });
    expect(result.violations.some((v) => v.includes("custom status of 9"))).toBe(true);
  });

  it("a decision whose proof did not verify, and a write on it (4)", async () => {
    const result = await simulate({
      input: INPUT,
      answers: {
        gathers: [asking("a")],
        applies: [{ outcome: "applied", writes: 1, converged: true }],
        published: [true],
      },
      steps: [
        { kind: "batch", advanceMs: 0 },
        ...deliver(),
        ...deliver(),
        {
          kind: "approval",
          target: "current",
          decision: "approve",
          valid: true,
          approverLength: 5,
          commentLength: 0,
        },
        ...deliver(), // requestApproval's completion; the decision is checked
        ...deliver(), // verifyDecision: true; applyPlan
      ],
      maxExecutions: 1,
    });
    expect(result.violations, report(result)).toEqual([]);
    const rec = result.executions[0]!;
    expect(rec.continueAsNew?.last?.outcome).toBe("applied");
    // The same history, but verifyDecision had answered false.
    const verify = rec.history.find(
      (e) => e.EventType === EventType.TaskScheduled && e.Name === "verifyDecision",
    );
    const forged = {
      ...rec,
      history: rec.history.map((e) =>
        e.EventType === EventType.TaskCompleted && e.TaskScheduledId === verify?.EventId
          ? { ...e, Result: "false" }
          : e,
      ),
    };
    const violations = checkExecution(forged);
    expect(violations.some((v) => v.includes("taken without a verified proof"))).toBe(true);
    expect(violations.some((v) => v.includes("whose proof was not verified first"))).toBe(true);
  });
});
