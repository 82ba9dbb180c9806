// Generators for the interleaving property tests (./interleavings.test.ts): reconciler inputs,
// activity answers and scripts of steps for ./history-builder.ts.
import fc from "fast-check";
import type { Mode } from "../../drift/types";
import type { ApplyOutput, GatherOutput, PlanSummary } from "../../orchestrations/activity-names";
import type { ChangeReason, PassRecord, ReconcilerInput } from "../../orchestrations/reconciler";
import type { ReconcilerSettings } from "../../orchestrations/reconciler-settings";
import type { Answers, Scenario, Step } from "./history-builder";

const POLICY_ID =
  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-network/providers/Microsoft.Network/firewallPolicies/fw-policy";

const settingsArb: fc.Arbitrary<ReconcilerSettings> = fc.record({
  mode: fc.constantFrom<Mode>("auto", "approve", "audit"),
  removalsNeedApproval: fc.boolean(),
  maxRemovedShare: fc.constantFrom(0.1, 0.25, 0.5),
  removalWindowHours: fc.constantFrom(1, 24),
  approvalTimeoutMinutes: fc.constantFrom(1, 30, 24 * 60, 7 * 24 * 60),
  debounceSeconds: fc.constantFrom(0, 1, 30, 300),
});

const planArb: fc.Arbitrary<PlanSummary> = fc
  .record({
    action: fc.constantFrom<PlanSummary["action"]>("none", "put", "put", "put"),
    change: fc.constantFrom("a", "a", "a", "b"),
    added: fc.nat(5),
    removed: fc.nat(5),
    changed: fc.nat(3),
    before: fc.nat(40),
    findings: fc.nat(3),
    mode: fc.constantFrom<Mode>("auto", "approve", "approve", "audit"),
  })
  .map(({ action, change, added, removed, changed, before, findings, mode }) => ({
    action,
    hash: `hash-${change}`.padEnd(64, "0"),
    baseHash: "base".padEnd(64, "0"),
    changeHash: `change-${change}`.padEnd(64, "0"),
    risk: {
      added,
      removed,
      changed,
      managedRulesBefore: before,
      removedShare: before === 0 ? 0 : removed / before,
    },
    changes: action === "none" ? 0 : added + removed + changed,
    findings,
    mode,
  }));

const gatherArbOf = (plans: fc.Arbitrary<PlanSummary>, settings: fc.Arbitrary<ReconcilerSettings>) =>
  fc
    .record({
      plan: plans,
      settings,
      clusters: fc.nat(120),
      summaryLength: fc.oneof(fc.nat(100), fc.integer({ min: 7_000, max: 20_000 })),
    })
    .map(({ plan, settings, clusters, summaryLength }) => ({
      plan,
      settings,
      clusterCount: clusters,
      clusterIds: Array.from(
        { length: Math.min(clusters, 50) },
        (_, i) =>
          `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-${i}`,
      ),
      summary: `Plan: ${plan.risk.added} to add, ${plan.risk.removed} to remove. `.padEnd(summaryLength, "."),
    }));

const applyArb: fc.Arbitrary<ApplyOutput> = fc
  .record({
    outcome: fc.constantFrom<ApplyOutput["outcome"]>(
      "applied",
      "applied",
      "superseded",
      "nothing-to-do",
      "failed",
    ),
    writes: fc.nat(2),
    converged: fc.boolean(),
    detailLength: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3_000 })),
  })
  .map(({ outcome, writes, converged, detailLength }) => ({
    outcome,
    writes,
    converged,
    ...(detailLength > 0 ? { detail: "Azure said no. ".padEnd(detailLength, "!") } : {}),
  }));

const gatherArb: fc.Arbitrary<GatherOutput> = gatherArbOf(planArb, settingsArb);

const answersArb: fc.Arbitrary<Answers> = fc.record({
  gathers: fc.array(gatherArb, { minLength: 1, maxLength: 4 }),
  applies: fc.array(applyArb, { minLength: 1, maxLength: 3 }),
  published: fc.array(fc.boolean(), { minLength: 1, maxLength: 2 }),
});

/** A reason as it can sit in an input: from a start (ARM event text, not clipped) or a carry (clipped). */
const inputReasonArb = (k: number, clipped: boolean): fc.Arbitrary<ChangeReason> =>
  fc
    .record({
      source: fc.constantFrom<ChangeReason["source"]>("event", "sweep", "manual", "startup"),
      // An ARM event's reason: operationName (≤ 200) and resourceUri (≤ 2,048); its id clipped to 200.
      detailLength: fc.integer({ min: 1, max: clipped ? 300 : 2_249 }),
      eventIdLength: fc.integer({ min: 0, max: clipped ? 200 : 218 }),
    })
    .map(({ source, detailLength, eventIdLength }) => ({
      source,
      detail: `input reason ${k} `.padEnd(detailLength, "r"),
      ...(eventIdLength > 0 ? { eventId: `in-${k}-`.padEnd(eventIdLength, "i") } : {}),
    }));

const lastArb: fc.Arbitrary<PassRecord> = fc
  .record({
    outcome: fc.constantFrom<PassRecord["outcome"]>(
      "applied",
      "rejected",
      "failed",
      "superseded",
      "no-drift",
    ),
    summaryLength: fc.integer({ min: 1, max: 300 }),
    approverLength: fc.integer({ min: 1, max: 256 }),
    commentLength: fc.integer({ min: 0, max: 300 }),
  })
  .map(({ outcome, summaryLength, approverLength, commentLength }) => ({
    pass: 1,
    completedAt: "2025-03-01T07:00:00.000Z",
    outcome,
    summary: "previous pass ".padEnd(summaryLength, "s"),
    clusterCount: 3,
    changes: 2,
    approver: "someone".padEnd(approverLength, "a"),
    decision: {
      approvalId: "00000000-0000-0000-0000-0000000000aa",
      decisionId: "00000000-0000-0000-0000-0000000000bb",
      decision: "approve" as const,
      approver: "someone".padEnd(approverLength, "a"),
      ...(commentLength > 0 ? { comment: "c".repeat(commentLength) } : {}),
      at: "2025-03-01T06:59:00.000Z",
    },
  }));

/**
 * The last pass and, two times in three, the recent list an earlier execution carried: the last pass
 * first, then four older ones with the longest texts (quotes and backslashes, which JSON doubles).
 * Derived from what was generated (no draw of its own, so the seeded runs stay as they were).
 */
function withRecent(generated: PassRecord, pass: number): Pick<ReconcilerInput, "last" | "recent"> {
  const last = { ...generated, pass: pass - 1 };
  if (pass % 3 === 0) return { last }; // an instance from before the list was kept
  const older = [2, 3, 4, 5].map(
    (k): PassRecord => ({
      ...generated,
      pass: pass - k,
      outcome: "rejected",
      summary: `rejected by ${"someone".padEnd(256, "a")}`.padEnd(300, "s"),
      decision: {
        ...(generated.decision ?? {
          approvalId: "00000000-0000-0000-0000-0000000000aa",
          decisionId: "00000000-0000-0000-0000-0000000000bb",
          at: "2025-03-01T06:59:00.000Z",
        }),
        decision: "reject",
        approver: "someone".padEnd(256, "a"),
        comment: `"\\'`.repeat(100),
      },
    }),
  );
  return { last, recent: [last, ...older] };
}

const inputArbOf = (
  kinds: fc.Arbitrary<"idle" | "started" | "carried">,
  settings: fc.Arbitrary<ReconcilerSettings>,
): fc.Arbitrary<ReconcilerInput> =>
  fc
    .record({
      pass: fc.integer({ min: 2, max: 40 }),
      kind: kinds,
      carried: fc.integer({ min: 1, max: 5 }),
      extraCount: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 })),
      last: fc.option(lastArb, { nil: undefined }),
      failures: fc.constantFrom(0, 0, 1, 3),
      recentRemoval: fc.boolean(),
      settings,
      reasons: fc.tuple(
        inputReasonArb(1, false),
        inputReasonArb(2, true),
        inputReasonArb(3, true),
        inputReasonArb(4, true),
        inputReasonArb(5, true),
      ),
    })
    .map((g) => {
      const pending =
        g.kind === "idle" ? [] : g.kind === "started" ? [g.reasons[0]] : g.reasons.slice(1, 1 + g.carried);
      return {
        policyId: POLICY_ID,
        pass: g.kind === "started" ? 1 : g.pass,
        pending,
        ...(g.kind === "carried" ? { pendingCount: pending.length + g.extraCount } : {}),
        ...(g.last && g.kind !== "started" ? withRecent(g.last, g.pass) : {}),
        removals: g.recentRemoval ? [{ at: "2025-03-01T07:30:00.000Z", removed: 2, before: 10 }] : [],
        ...(g.failures > 0 && g.kind !== "started" ? { failures: g.failures } : {}),
        settings: g.settings,
      } satisfies ReconcilerInput;
    });

const inputArb = inputArbOf(fc.constantFrom("idle", "idle", "started", "carried"), settingsArb);

const withDup = <T extends object>(arb: fc.Arbitrary<T>): fc.Arbitrary<T & { dupOf?: number }> =>
  fc
    .tuple(
      arb,
      fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat(20) }),
    )
    .map(([step, dupOf]) => (dupOf === undefined ? step : { ...step, dupOf }));

/** `holds`: undefined (raise it where it is), "approval" or "pass-end", weighted by repetition. */
const changeArbOf = (holds: (Step & { kind: "change" })["hold"][], maxDelay: number): fc.Arbitrary<Step> =>
  withDup(
    fc.record({
      kind: fc.constant("change" as const),
      detailLength: fc.oneof(fc.nat(80), fc.integer({ min: 300, max: 3_000 })),
      eventIdLength: fc.oneof(fc.constant(0), fc.integer({ min: 10, max: 200 })),
      hold: fc.constantFrom(...holds),
      delay: fc.nat(maxDelay),
    }),
  ).map(({ hold, ...step }) => (hold === undefined ? step : { ...step, hold }));

const changeArb = changeArbOf([undefined, undefined, undefined, undefined, "approval", "pass-end"], 4);

const approvalArbOf = (maxDelay: number): fc.Arbitrary<Step> =>
  withDup(
    fc.record({
      kind: fc.constant("approval" as const),
      target: fc.constantFrom(
        "current",
        "current",
        "current",
        "current",
        "earlier",
        "other-change",
        "no-proof",
        "not-a-decision",
      ),
      decision: fc.constantFrom("approve" as const, "approve" as const, "reject" as const),
      valid: fc.oneof(
        { weight: 3, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
      approverLength: fc.oneof(fc.nat(40), fc.integer({ min: 100, max: 256 })),
      commentLength: fc.oneof(fc.constant(0), fc.nat(60), fc.integer({ min: 301, max: 2_000 })),
      delay: fc.nat(maxDelay),
    }),
  );

const approvalArb = approvalArbOf(4);

/**
 * One batch: events raised before the message it delivers (an activity's completion or a due timer,
 * usually), maybe a duplicate of an earlier delivery, events after it, then the batch boundary.
 */
const batchArbOf = (eventStep: fc.Arbitrary<Step>): fc.Arbitrary<Step[]> =>
  fc
    .record({
      before: fc.array(eventStep, { maxLength: 3 }),
      deliver: fc.option(fc.record({ pick: fc.nat(7), wait: fc.boolean() }), { freq: 6, nil: undefined }),
      redeliver: fc.oneof(
        { weight: 9, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.nat(7) },
      ),
      after: fc.array(eventStep, { maxLength: 2 }),
      advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 120_000 }), fc.constant(3_600_000)),
    })
    .map(({ before, deliver, redeliver, after, advanceMs }) => [
      ...before,
      ...(deliver === undefined ? [] : [{ kind: "deliver" as const, ...deliver }]),
      ...(redeliver === undefined ? [] : [{ kind: "redeliver" as const, pick: redeliver }]),
      ...after,
      { kind: "batch" as const, advanceMs },
    ]);

const batchArb = batchArbOf(
  fc.oneof({ weight: 3, arbitrary: changeArb }, { weight: 2, arbitrary: approvalArb }),
);

export const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  input: inputArb,
  answers: answersArb,
  steps: fc.array(batchArb, { maxLength: 25 }).map((batches) => batches.flat()),
});

/** A burst: hundreds of change events (long texts) in a few batches, anywhere in a pass. */
export const burstScenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    input: inputArb,
    answers: answersArb,
    before: fc.array(batchArb, { maxLength: 4 }).map((b) => b.flat()),
    burst: fc.integer({ min: 30, max: 300 }),
    batches: fc.integer({ min: 1, max: 6 }),
    detailLength: fc.integer({ min: 200, max: 5_000 }),
    after: fc.array(batchArb, { maxLength: 4 }).map((b) => b.flat()),
  })
  .map(({ input, answers, before, burst, batches, detailLength, after }) => {
    const steps: Step[] = [...before];
    for (let i = 0; i < burst; i++) {
      steps.push({ kind: "change", detailLength, eventIdLength: 200 });
      if ((i + 1) % Math.ceil(burst / batches) === 0) steps.push({ kind: "batch", advanceMs: 100 });
    }
    steps.push(...after);
    return { input, answers, steps, crossCheckEngineReplay: false };
  });

/**
 * Passes that ask a person: approve-mode plans whose change may move on a re-plan, short debounce
 * windows and approvals that outlast them, so that change events land before, during and after
 * re-plans, and decisions before, during and after those.
 */
const waitSettingsArb: fc.Arbitrary<ReconcilerSettings> = fc.record({
  mode: fc.constant<Mode>("approve"),
  removalsNeedApproval: fc.boolean(),
  maxRemovedShare: fc.constantFrom(0.1, 0.5),
  removalWindowHours: fc.constant(24),
  approvalTimeoutMinutes: fc.constantFrom(30, 24 * 60, 7 * 24 * 60),
  debounceSeconds: fc.constantFrom(0, 1, 30),
});

const askingPlanArb: fc.Arbitrary<PlanSummary> = fc
  .tuple(planArb, fc.constantFrom("a", "b"))
  .map(([plan, change]) => ({
    ...plan,
    hash: `hash-${change}`.padEnd(64, "0"),
    changeHash: `change-${change}`.padEnd(64, "0"),
    action: "put" as const,
    mode: "approve" as const,
    changes: plan.risk.added + plan.risk.removed + plan.risk.changed,
  }));

export const approvalWaitScenarioArb: fc.Arbitrary<Scenario> = fc.record({
  input: inputArbOf(fc.constantFrom("started", "carried"), waitSettingsArb),
  answers: fc.record({
    gathers: fc.array(gatherArbOf(askingPlanArb, waitSettingsArb), { minLength: 2, maxLength: 4 }),
    applies: fc.array(applyArb, { minLength: 1, maxLength: 2 }),
    published: fc.constant([true]),
  }),
  steps: fc
    .array(
      batchArbOf(
        fc.oneof(
          { weight: 3, arbitrary: changeArbOf([undefined, "approval", "approval", "pass-end"], 6) },
          { weight: 1, arbitrary: approvalArbOf(10) },
        ),
      ),
      { maxLength: 20 },
    )
    .map((batches) => batches.flat()),
});
