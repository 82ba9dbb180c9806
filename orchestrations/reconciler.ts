// The per-policy reconciler (DESIGN §1): one instance per firewall policy. It idles until an event
// arrives, lets a burst settle (debounce), runs one pass — plan, decide, maybe wait for a person,
// apply one PUT, verify — and continues as new, carrying over what arrived meanwhile.
// Orchestrator code: deterministic, no I/O, time only from context.df.currentUtcDateTime.
import type { OrchestrationContext, OrchestrationHandler, Task, TimerTask } from "durable-functions";
import * as df from "durable-functions";
import { decide } from "../drift/decision";
import type { Plan } from "../drift/types";
import {
  ACTIVITIES,
  type ApplyOutput,
  type GatherOutput,
  type RequestApprovalOutput,
} from "./activity-names";
import { appSettings } from "./settings";
import { EVENTS, logEvent } from "./telemetry";

export const RECONCILER = "policyReconciler";
export const EVENT_CHANGED = "changed";
export const EVENT_APPROVAL = "approval";

export interface ChangeReason {
  source: "event" | "sweep" | "manual" | "startup";
  detail: string;
  eventId?: string;
}

export interface ApprovalDecision {
  approvalId: string;
  planHash: string;
  decision: "approve" | "reject";
  comment?: string;
  approver: string;
}

export interface PassRecord {
  pass: number;
  completedAt: string;
  outcome:
    | "no-drift"
    | "reported"
    | "applied"
    | "rejected"
    | "expired"
    | "superseded"
    | "failed"
    | "not-converged";
  summary: string;
  clusters: string[];
  changes: number;
  approver?: string;
}

export interface ReconcilerInput {
  policyId: string;
  pass: number;
  /** Reasons that arrived while the previous pass ran: start the next one without idling. */
  pending: ChangeReason[];
  last?: PassRecord;
}

export interface PendingApproval {
  approvalId: string;
  planHash: string;
  expiresAt: string;
  link: string;
  reasons: string[];
  /** The plan as text (terraform-like), truncated to keep custom status small. */
  planText: string;
}

export interface ReconcilerStatus {
  policyId: string;
  phase: "idle" | "debouncing" | "planning" | "awaiting-approval" | "applying";
  pass: number;
  reasons: ChangeReason[];
  plan?: {
    action: Plan["action"];
    hash: string;
    added: number;
    removed: number;
    changed: number;
    findings: number;
  };
  pendingApproval?: PendingApproval;
  last?: PassRecord;
}

export { instanceIdFor } from "./instance-id";

const RETRY = new df.RetryOptions(5_000, 4);
RETRY.backoffCoefficient = 2;

function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

export const reconcilerOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<ReconcilerInput>();
  const settings = appSettings();
  const log = (name: Parameters<typeof logEvent>[1], props: Record<string, unknown>) => {
    if (!context.df.isReplaying)
      logEvent(context, name, {
        policyId: input.policyId,
        instanceId: context.df.instanceId,
        pass: input.pass,
        ...props,
      });
  };
  const reasons: ChangeReason[] = [...input.pending];
  const status = (s: Omit<ReconcilerStatus, "policyId" | "pass" | "reasons" | "last">) =>
    context.df.setCustomStatus({
      policyId: input.policyId,
      pass: input.pass,
      reasons,
      ...(input.last ? { last: input.last } : {}),
      ...s,
    } satisfies ReconcilerStatus);

  // 1. Idle until something happens (an eternal orchestration: continueAsNew keeps history small).
  if (reasons.length === 0) {
    status({ phase: "idle" });
    reasons.push((yield context.df.waitForExternalEvent(EVENT_CHANGED)) as ChangeReason);
  }

  // 2. Debounce: a fixed window from the first event; everything inside it is one pass. Each round
  //    gets a fresh timer for the same deadline (a task is never reused across Task.any calls, which
  //    replay does not handle well); the timer a round loses to an event is cancelled.
  status({ phase: "debouncing" });
  const windowEnds = addSeconds(context.df.currentUtcDateTime, settings.debounceSeconds);
  for (;;) {
    const next = context.df.waitForExternalEvent(EVENT_CHANGED);
    const window = context.df.createTimer(windowEnds);
    const winner: Task = yield context.df.Task.any([next, window]);
    if (winner === window) break;
    window.cancel();
    reasons.push(next.result as ChangeReason);
  }

  // 3. Plan.
  log(EVENTS.passStarted, { reasons });
  status({ phase: "planning" });
  const record = (
    outcome: PassRecord["outcome"],
    summary: string,
    plan?: Plan,
    extra: Partial<PassRecord> = {},
  ): PassRecord => ({
    pass: input.pass,
    completedAt: context.df.currentUtcDateTime.toISOString(),
    outcome,
    summary,
    clusters: gathered?.clusterIds ?? [],
    changes: plan?.changes.length ?? 0,
    ...extra,
  });
  let gathered: GatherOutput | undefined;
  let last: PassRecord;
  try {
    gathered = (yield context.df.callActivityWithRetry(ACTIVITIES.gatherAndPlan, RETRY, {
      policyId: input.policyId,
    })) as GatherOutput;
    last = yield* runPass(context, input, gathered, status, log, record);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(EVENTS.passFailed, { error: message });
    last = record("failed", message);
  }
  log(EVENTS.passCompleted, {
    outcome: last.outcome,
    summary: last.summary,
    clusters: last.clusters,
    changes: last.changes,
  });
  // The pending approval (if any) is over: the status must stop offering it at once.
  context.df.setCustomStatus({
    policyId: input.policyId,
    pass: input.pass,
    reasons: [],
    phase: "idle",
    last,
  } satisfies ReconcilerStatus);

  // 4. Events that arrived during the pass start the next one at once (a timer due now lets any
  //    already-delivered event win first).
  const pending: ChangeReason[] = [];
  if (last.outcome === "superseded") {
    // The change that superseded the plan was consumed while waiting: plan again straight away.
    pending.push({ source: "event", detail: "the drift changed while the plan waited; planning again" });
  }
  for (;;) {
    const next = context.df.waitForExternalEvent(EVENT_CHANGED);
    const now = context.df.createTimer(context.df.currentUtcDateTime);
    const winner: Task = yield context.df.Task.any([next, now]);
    if (winner === now) break;
    now.cancel();
    pending.push(next.result as ChangeReason);
  }
  context.df.continueAsNew({
    policyId: input.policyId,
    pass: input.pass + 1,
    pending,
    last,
  } satisfies ReconcilerInput);
  return undefined;
};

type StatusFn = (s: Omit<ReconcilerStatus, "policyId" | "pass" | "reasons" | "last">) => void;
type LogFn = (name: Parameters<typeof logEvent>[1], props: Record<string, unknown>) => void;
type RecordFn = (
  outcome: PassRecord["outcome"],
  summary: string,
  plan?: Plan,
  extra?: Partial<PassRecord>,
) => PassRecord;

function planStatus(plan: Plan): NonNullable<ReconcilerStatus["plan"]> {
  return {
    action: plan.action,
    hash: plan.hash,
    added: plan.risk.added,
    removed: plan.risk.removed,
    changed: plan.risk.changed,
    findings: plan.findings.length,
  };
}

function* runPass(
  context: OrchestrationContext,
  input: ReconcilerInput,
  first: GatherOutput,
  status: StatusFn,
  log: LogFn,
  record: RecordFn,
): Generator<Task, PassRecord, unknown> {
  const settings = appSettings();
  let gathered = first;
  const plan = gathered.plan;
  const decision = decide(plan, gathered.clusters, settings);
  log(EVENTS.planComputed, {
    clusters: gathered.clusterIds,
    action: plan.action,
    hash: plan.hash,
    risk: plan.risk,
    outcome: decision.outcome,
    mode: decision.mode,
    reasons: decision.reasons,
  });

  if (decision.outcome === "none") return record("no-drift", "no drift", plan);
  if (decision.outcome === "report")
    return record(
      "reported",
      `${plan.changes.length} change(s) reported (${decision.reasons.join("; ")})`,
      plan,
    );

  let approver: string | undefined;
  if (decision.outcome === "approve") {
    const approvalId = `${input.pass}-${plan.hash.slice(0, 16)}`;
    const expiresAt = new Date(
      context.df.currentUtcDateTime.getTime() + settings.approvalTimeoutMinutes * 60_000,
    );
    const requested = (yield context.df.callActivityWithRetry(ACTIVITIES.requestApproval, RETRY, {
      policyId: input.policyId,
      pass: input.pass,
      instanceId: context.df.instanceId,
      approvalId,
      planHash: plan.hash,
      expiresAt: expiresAt.toISOString(),
      reasons: decision.reasons,
      planText: gathered.planText,
    })) as RequestApprovalOutput;
    const pendingApproval: PendingApproval = {
      approvalId,
      planHash: plan.hash,
      expiresAt: expiresAt.toISOString(),
      link: requested.link,
      reasons: decision.reasons,
      planText: gathered.planText,
    };
    status({ phase: "awaiting-approval", plan: planStatus(plan), pendingApproval });

    for (;;) {
      const decided = context.df.waitForExternalEvent(EVENT_APPROVAL);
      const changed = context.df.waitForExternalEvent(EVENT_CHANGED);
      const expiry: TimerTask = context.df.createTimer(expiresAt);
      const winner = (yield context.df.Task.any([decided, changed, expiry])) as Task;
      if (winner === expiry) {
        log(EVENTS.approvalExpired, { approvalId, hash: plan.hash });
        return record("expired", `approval ${approvalId} expired; the drift stays reported`, plan);
      }
      expiry.cancel();
      if (winner === changed) {
        // Something changed while waiting: re-plan. Same plan → keep waiting; new plan → superseded.
        status({ phase: "planning", plan: planStatus(plan), pendingApproval });
        gathered = (yield context.df.callActivityWithRetry(ACTIVITIES.gatherAndPlan, RETRY, {
          policyId: input.policyId,
        })) as GatherOutput;
        if (gathered.plan.hash !== plan.hash) {
          log(EVENTS.approvalSuperseded, { approvalId, hash: plan.hash, newHash: gathered.plan.hash });
          // The next pass plans again (and asks again if it must); this token no longer has a taker.
          return record(
            "superseded",
            `approval ${approvalId} superseded: the drift changed while it waited`,
            plan,
          );
        }
        status({ phase: "awaiting-approval", plan: planStatus(plan), pendingApproval });
        continue;
      }
      const answer = decided.result as ApprovalDecision;
      // Only the decision for this approval and this exact plan counts (the HTTP endpoint checks too).
      if (answer.approvalId !== approvalId || answer.planHash !== plan.hash) continue;
      log(EVENTS.approvalDecided, {
        approvalId,
        hash: plan.hash,
        decision: answer.decision,
        approver: answer.approver,
        comment: answer.comment ?? "",
      });
      if (answer.decision === "reject")
        return record("rejected", `rejected by ${answer.approver}`, plan, { approver: answer.approver });
      approver = answer.approver;
      break;
    }
  }

  status({ phase: "applying", plan: planStatus(plan) });
  const applied = (yield context.df.callActivityWithRetry(ACTIVITIES.applyPlan, RETRY, {
    policyId: input.policyId,
    planHash: plan.hash,
  })) as ApplyOutput;
  log(EVENTS.planApplied, {
    hash: plan.hash,
    outcome: applied.outcome,
    writes: applied.writes,
    converged: applied.converged,
    approver: approver ?? "",
  });
  const by = approver ? { approver } : {};
  if (applied.outcome === "superseded")
    return record("superseded", "the drift changed before the write; the next pass re-plans", plan, by);
  if (!applied.converged)
    return record("not-converged", `applied with ${applied.writes} write, but drift remains`, plan, by);
  return record(
    "applied",
    `applied ${plan.changes.length} change(s) with ${applied.writes} write${approver ? `, approved by ${approver}` : ""}`,
    plan,
    by,
  );
}
