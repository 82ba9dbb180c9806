// The per-policy reconciler (DESIGN §1): one instance per firewall policy. It idles until an event
// arrives, lets a burst settle (debounce), runs one pass — plan, decide, maybe wait for a person,
// apply one PUT, verify — and continues as new, carrying over what arrived meanwhile.
// Orchestrator code: deterministic, no I/O, time only from context.df.currentUtcDateTime.
// History stays bounded: activities hand back summaries and hashes, never whole plans.
import type { OrchestrationContext, OrchestrationHandler, Task, TimerTask } from "durable-functions";
import * as df from "durable-functions";
import { decide, type RemovalRecord, removalsWithin } from "../drift/decision";
import type { EgressIndex } from "../topology";
import {
  ACTIVITIES,
  type ApplyOutput,
  type GatherOutput,
  type PlanSummary,
  type RecordAdoptionInput,
  type RequestApprovalOutput,
} from "./activity-names";
import type { CatalogInUse } from "./catalog-adoption";
import { Mailbox } from "./mailbox";
import { type ReconcilerSettings, reconcilerSettingsFrom } from "./reconciler-settings";
import { appSettings } from "./settings";
import { EVENTS, logEvent } from "./telemetry";

export const RECONCILER = "policyReconciler";
export const EVENT_CHANGED = "changed";
export const EVENT_APPROVAL = "approval";

/**
 * Custom status must stay far below Durable's 16 KB (UTF-16) limit, or the extension fails the
 * instance: it holds counts, hashes and short text, never lists that grow with the fleet or a burst.
 */
const REASONS_KEPT = 5;
const TEXT_KEPT = 300;
/** Azure Storage splits timers longer than 6 days; no timer here is longer than 3 (longer waits loop). */
export const MAX_TIMER_MS = 3 * 24 * 3_600_000;

/** The removal budget's records: as long as the longest window allowed, and at most this many. */
const REMOVAL_WINDOW_MAX_HOURS = 24 * 30;
const REMOVALS_KEPT = 200;

/** Passes the status lists (the last one first), and what their summaries keep. */
const RECENT_KEPT = 5;
const RECENT_SUMMARY_KEPT = 160;
/** The status leaves out its oldest recent passes while it is longer than this (JSON characters). */
const RECENT_STATUS_KEPT = 7_500;
/** Room for one more clipped reason (detail, event ID, keys). */
const REASON_ROOM = 600;

const clipTo = (text: string, kept: number) => (text.length <= kept ? text : `${text.slice(0, kept - 1)}…`);
const clip = (text: string) => clipTo(text, TEXT_KEPT);
const clipReason = (r: ChangeReason): ChangeReason => ({ ...r, detail: clip(r.detail) });

/**
 * A pass as the recent list keeps it: a shorter summary, the decision's approver and comment clipped,
 * and the approver once (in the decision). Applying it again changes nothing.
 */
function recentPass(record: PassRecord): PassRecord {
  const { approver, decision, ...rest } = record;
  return {
    ...rest,
    summary: clipTo(record.summary, RECENT_SUMMARY_KEPT),
    ...(decision
      ? {
          decision: {
            ...decision,
            approver: clip(decision.approver),
            ...(decision.comment ? { comment: clip(decision.comment) } : {}),
          },
        }
      : approver
        ? { approver: clip(approver) }
        : {}),
  };
}

/**
 * The status with as many recent passes as keep it under RECENT_STATUS_KEPT, newest first. While the
 * debounce window is open the status holds the reasons array itself, which grows until the episode
 * ends: room is kept for the reasons still to come.
 */
function withRecent(status: ReconcilerStatus, recent: readonly PassRecord[]): ReconcilerStatus {
  const growing = status.phase === "debouncing" ? REASONS_KEPT - status.reasons.length : 0;
  const budget = RECENT_STATUS_KEPT - Math.max(0, growing) * REASON_ROOM;
  for (let kept = recent.length; kept > 0; kept--) {
    const full = { ...status, recent: recent.slice(0, kept) };
    if (JSON.stringify(full).length <= budget) return full;
  }
  return status;
}

export interface ChangeReason {
  source: "event" | "sweep" | "manual" | "startup" | "catalog";
  detail: string;
  eventId?: string;
}

/** What the approval endpoint raises after checking the link's token; `proof` is checked here too. */
export interface ApprovalDecision {
  approvalId: string;
  changeHash: string;
  decision: "approve" | "reject";
  /** Random per request: tells the caller whether its decision is the one that took effect. */
  decisionId: string;
  comment?: string;
  approver: string;
  /** HMAC over the fields above (approval-token.ts decisionProof). */
  proof: string;
}

/** The decision that took effect (there is at most one per approval). */
export interface DecisionTaken {
  approvalId: string;
  decisionId: string;
  decision: "approve" | "reject";
  approver: string;
  comment?: string;
  at: string;
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
  clusterCount: number;
  changes: number;
  approver?: string;
  /** The approval decided in this pass, if one was. */
  decision?: DecisionTaken;
  /** The catalog the pass planned with: "2026-06", "2026-06 (adopted page)", "2026-06 (offered page)". */
  catalog?: string;
}

export interface ReconcilerInput {
  policyId: string;
  pass: number;
  /** Reasons that arrived while the previous pass ran: start the next one without idling. */
  pending: ChangeReason[];
  /** How many reasons arrived (pending keeps the first few). */
  pendingCount?: number;
  last?: PassRecord;
  /** The last passes, newest first (`last` included), each shortened; at most five. */
  recent?: PassRecord[];
  /** Removals applied without approval, for the rolling removal budget. */
  removals?: RemovalRecord[];
  /** Failed passes in a row: the next try waits longer (bounded). */
  failures?: number;
  /** The settings as of the last activity that read them (or the start); see reconciler-settings.ts. */
  settings?: ReconcilerSettings;
  /**
   * The egress index of the last pass that read the estate, and that pass's number: which network
   * events concern this policy (functions/events/arm-event.ts reads it with the instance's input).
   * Kept here, not in custom status: it grows with the fleet (up to a few KB).
   */
  egress?: { pass: number; index: EgressIndex };
}

export interface PendingApproval {
  approvalId: string;
  /** The one change waiting for a decision (not a credential: deciding needs the link's token). */
  changeHash: string;
  expiresAt: string;
  reasons: string[];
  /** "Plan: 3 to add, …": the approval page shows the whole plan, read afresh. */
  summary: string;
}

export interface ReconcilerStatus {
  policyId: string;
  phase: "idle" | "debouncing" | "planning" | "awaiting-approval" | "applying";
  pass: number;
  /** The first reasons of this pass; reasonCount is exact. */
  reasons: ChangeReason[];
  reasonCount: number;
  plan?: {
    action: PlanSummary["action"];
    hash: string;
    changeHash: string;
    added: number;
    removed: number;
    changed: number;
    findings: number;
  };
  pendingApproval?: PendingApproval;
  /** Set once a decision took effect, so that every caller learns which one did. */
  decided?: DecisionTaken;
  last?: PassRecord;
  /**
   * The last passes, newest first (`last` included), each shortened: at most five, fewer while the
   * rest of the status leaves no room for them (the oldest are left out first).
   */
  recent?: PassRecord[];
}

export { instanceIdFor } from "./instance-id";

const RETRY = new df.RetryOptions(5_000, 4);
RETRY.backoffCoefficient = 2;

function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

type StatusFn = (
  s: Omit<ReconcilerStatus, "policyId" | "pass" | "reasons" | "reasonCount" | "last" | "recent">,
) => void;
type LogFn = (name: Parameters<typeof logEvent>[1], props: Record<string, unknown>) => void;

interface PassContext {
  context: OrchestrationContext;
  input: ReconcilerInput;
  status: StatusFn;
  log: LogFn;
  changes: Mailbox<ChangeReason>;
  /** Change events taken while the pass ran: they start the next pass. */
  later: ChangeReason[];
  removals: RemovalRecord[];
  /** From the input, then as the pass's first activity read them. */
  settings: ReconcilerSettings;
  clusterIds: string[];
  /** From the input, then as the pass's last gathering saw it. */
  egress?: { pass: number; index: EgressIndex };
}

export const reconcilerOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<ReconcilerInput>();
  // Instances started before settings travelled in the input read them once here (and keep them).
  const settings = input.settings ?? reconcilerSettingsFrom(appSettings());
  const log: LogFn = (name, props) => {
    if (!context.df.isReplaying)
      logEvent(context, name, {
        policyId: input.policyId,
        instanceId: context.df.instanceId,
        pass: input.pass,
        ...props,
      });
  };
  const reasons: ChangeReason[] = [...input.pending];
  let reasonCount = input.pendingCount ?? reasons.length;
  const addReason = (r: ChangeReason) => {
    reasonCount += 1;
    if (reasons.length < REASONS_KEPT) reasons.push(clipReason(r));
  };
  // Instances started before the list was kept begin it with their last pass.
  const recent = (input.recent ?? (input.last ? [input.last] : [])).slice(0, RECENT_KEPT).map(recentPass);
  const status: StatusFn = (s) =>
    context.df.setCustomStatus(
      withRecent(
        {
          policyId: input.policyId,
          pass: input.pass,
          reasons,
          reasonCount,
          ...(input.last ? { last: input.last } : {}),
          ...s,
        },
        recent,
      ),
    );
  const changes = new Mailbox<ChangeReason>(context, EVENT_CHANGED);

  // 1. Idle until something happens (an eternal orchestration: continueAsNew keeps history small).
  if (reasonCount === 0) {
    status({ phase: "idle" });
    const first = changes.waiter();
    yield first;
    for (const r of changes.take()) addReason(r);
  }

  // 2. Debounce: a fixed window from the first event; everything inside it is one pass. Each round
  //    gets a fresh timer for the same deadline and a fresh waiter; the timer a round loses to an
  //    event is cancelled.
  status({ phase: "debouncing" });
  const windowEnds = addSeconds(context.df.currentUtcDateTime, settings.debounceSeconds);
  for (;;) {
    const window = context.df.createTimer(windowEnds);
    const winner: Task = yield context.df.Task.any([changes.waiter(), window]);
    for (const r of changes.take()) addReason(r);
    if (winner === window) break;
    window.cancel();
  }

  // 3. The pass.
  log(EVENTS.passStarted, { reasons: reasons.map((r) => r.detail), reasonCount });
  status({ phase: "planning" });
  const now = context.df.currentUtcDateTime;
  const pass: PassContext = {
    context,
    input,
    status,
    log,
    changes,
    later: [],
    // Kept for the longest window the setting allows, and filtered by the window when deciding, so a
    // widened window still sees removals an earlier, narrower one would have let go.
    removals: removalsWithin(input.removals ?? [], now, REMOVAL_WINDOW_MAX_HOURS).slice(-REMOVALS_KEPT),
    settings,
    clusterIds: [],
    ...(input.egress ? { egress: input.egress } : {}),
  };
  let last: PassRecord;
  try {
    last = yield* runPass(pass);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(EVENTS.passFailed, { error: message });
    last = {
      pass: input.pass,
      completedAt: context.df.currentUtcDateTime.toISOString(),
      outcome: "failed",
      summary: clip(message),
      clusterCount: 0,
      changes: 0,
    };
  }
  log(EVENTS.passCompleted, {
    outcome: last.outcome,
    summary: last.summary,
    clusters: pass.clusterIds,
    clusterCount: last.clusterCount,
    changes: last.changes,
  });
  // The pending approval (if any) is over: the status must stop offering it at once.
  const recentNow = [recentPass(last), ...recent].slice(0, RECENT_KEPT);
  context.df.setCustomStatus(
    withRecent(
      { policyId: input.policyId, pass: input.pass, reasons: [], reasonCount: 0, phase: "idle", last },
      recentNow,
    ),
  );

  // 4. Events that arrived during the pass start the next one at once. A timer due now lets any
  //    event already delivered reach a fresh waiter first.
  const pending: ChangeReason[] = [];
  let pendingCount = 0;
  const carry = (r: ChangeReason) => {
    pendingCount += 1;
    if (pending.length < REASONS_KEPT) pending.push(clipReason(r));
  };
  if (last.outcome === "superseded") {
    carry({ source: "event", detail: "the change moved before it was written; planning again" });
  }
  for (const r of [...pass.later, ...changes.take()]) carry(r);
  const failures =
    last.outcome === "failed" || last.outcome === "not-converged" ? (input.failures ?? 0) + 1 : 0;
  if (failures > 0 && pendingCount === 0) {
    // A failed pass (Azure refused or failed the write, or ARM kept failing) tries again by itself,
    // after a wait that doubles per failure (from the debounce window, at most an hour); an event
    // that arrives meanwhile starts it at once.
    const wait = Math.min(3600, Math.max(1, pass.settings.debounceSeconds) * 2 ** Math.min(failures, 12));
    const retryTimer = context.df.createTimer(addSeconds(context.df.currentUtcDateTime, wait));
    const winner: Task = yield context.df.Task.any([changes.waiter(), retryTimer]);
    if (winner !== retryTimer) retryTimer.cancel();
    for (const r of changes.take()) carry(r);
    carry({ source: "manual", detail: `retry after ${failures} failed pass(es)` });
  }
  for (;;) {
    const nowTimer = context.df.createTimer(context.df.currentUtcDateTime);
    const winner: Task = yield context.df.Task.any([changes.waiter(), nowTimer]);
    for (const r of changes.take()) carry(r);
    if (winner === nowTimer) break;
    nowTimer.cancel();
  }
  context.df.continueAsNew({
    policyId: input.policyId,
    pass: input.pass + 1,
    pending,
    pendingCount,
    last,
    recent: recentNow,
    removals: pass.removals,
    settings: pass.settings,
    ...(pass.egress ? { egress: pass.egress } : {}),
    ...(failures > 0 ? { failures } : {}),
  } satisfies ReconcilerInput);
  return undefined;
};

function catalogLabel(inUse: CatalogInUse): string {
  if (inUse.source === "configured") return inUse.version;
  return `${inUse.version} (${inUse.source === "adopted" ? "adopted" : "offered"} page)`;
}

function planStatus(plan: PlanSummary): NonNullable<ReconcilerStatus["plan"]> {
  return {
    action: plan.action,
    hash: plan.hash,
    changeHash: plan.changeHash,
    added: plan.risk.added,
    removed: plan.risk.removed,
    changed: plan.risk.changed,
    findings: plan.findings,
  };
}

function* gather(p: PassContext): Generator<Task, GatherOutput, unknown> {
  const output = (yield p.context.df.callActivityWithRetry(ACTIVITIES.gatherAndPlan, RETRY, {
    policyId: p.input.policyId,
  })) as GatherOutput & { egressIndex?: EgressIndex };
  // From the activity's recorded output only (replay sees the same); absent from older activities.
  if (output.egressIndex !== undefined) p.egress = { pass: p.input.pass, index: output.egressIndex };
  // Events that came in while the activity ran belong to the next pass (this one already read).
  p.later.push(...p.changes.take());
  return output;
}

function* runPass(p: PassContext): Generator<Task, PassRecord, unknown> {
  const { context, input, status, log } = p;
  const gathered = yield* gather(p);
  const plan = gathered.plan;
  p.settings = gathered.settings;
  p.clusterIds = gathered.clusterIds;
  const settings = p.settings;
  const record = (
    outcome: PassRecord["outcome"],
    summary: string,
    extra: Partial<PassRecord> = {},
  ): PassRecord => ({
    pass: input.pass,
    completedAt: context.df.currentUtcDateTime.toISOString(),
    outcome,
    summary: clip(summary),
    clusterCount: gathered.clusterCount,
    changes: plan.changes,
    ...(gathered.catalog ? { catalog: catalogLabel(gathered.catalog) } : {}),
    ...extra,
  });
  const decided = decide(
    plan,
    plan.mode,
    settings,
    removalsWithin(p.removals, context.df.currentUtcDateTime, settings.removalWindowHours),
  );
  // A page of Microsoft's that this policy has not adopted yet, and a move of the group to the shared
  // layout, are never applied without a person, whatever the mode says (audit still only reports).
  const candidate = gathered.catalog?.source === "candidate" ? gathered.catalog : undefined;
  const forced = [
    ...(candidate
      ? [
          decided.outcome === "apply"
            ? `adopting Microsoft's page ${candidate.version} in place of catalog ${candidate.replacing} needs a person's approval`
            : `adopting Microsoft's page ${candidate.version} in place of ${candidate.replacing}`,
        ]
      : []),
    ...(plan.migration ? [`${plan.migration} (needs a person's approval)`] : []),
  ];
  const decision =
    forced.length > 0 && (decided.outcome === "apply" || decided.outcome === "approve")
      ? { ...decided, outcome: "approve" as const, reasons: [...forced, ...decided.reasons] }
      : decided;
  const answer = function* (state: RecordAdoptionInput["state"], by?: string) {
    if (candidate === undefined) return;
    yield context.df.callActivityWithRetry(ACTIVITIES.recordAdoption, RETRY, {
      policyId: input.policyId,
      pageSha256: candidate.pageSha256,
      importedAs: candidate.version,
      state,
      at: context.df.currentUtcDateTime.toISOString(),
      ...(by ? { by } : {}),
    } satisfies RecordAdoptionInput);
  };
  log(EVENTS.planComputed, {
    clusters: gathered.clusterIds,
    clusterCount: gathered.clusterCount,
    action: plan.action,
    hash: plan.hash,
    changeHash: plan.changeHash,
    risk: plan.risk,
    findings: plan.findings,
    ...(plan.topFindings ? { topFindings: plan.topFindings } : {}),
    outcome: decision.outcome,
    mode: decision.mode,
    reasons: decision.reasons,
  });

  if (decision.outcome === "none") return record("no-drift", "no drift");
  if (decision.outcome === "report")
    return record("reported", `${plan.changes} change(s) reported (${decision.reasons.join("; ")})`);

  let taken: DecisionTaken | undefined;
  if (decision.outcome === "approve") {
    const waited = yield* awaitApproval(p, gathered, decision.reasons);
    if (waited.kind === "expired") {
      // An offer nobody answered is set aside for this policy: its other drift is not held hostage.
      yield* answer("expired");
      return record(
        "expired",
        `approval ${waited.approvalId} expired; the drift stays reported${candidate ? `; page ${candidate.version} set aside for this policy` : ""}`,
      );
    }
    if (waited.kind === "superseded")
      return record(
        "superseded",
        `approval ${waited.approvalId} superseded: the change moved while it waited; asking again`,
      );
    taken = waited.decision;
    if (taken.decision === "reject") {
      yield* answer("declined", taken.approver);
      return record("rejected", `rejected by ${taken.approver}`, {
        approver: taken.approver,
        decision: taken,
      });
    }
  }

  status({ phase: "applying", plan: planStatus(plan), ...(taken ? { decided: taken } : {}) });
  // Unapproved removals count against the budget from the moment the write may land, pessimistically:
  // a write that fails, times out or whose answer is lost may still have removed them. Only a write
  // that provably did not happen (superseded: nothing was sent) gives them back.
  const removal: RemovalRecord | undefined =
    taken === undefined && plan.risk.removed > 0
      ? {
          at: context.df.currentUtcDateTime.toISOString(),
          removed: plan.risk.removed,
          before: plan.risk.managedRulesBefore,
        }
      : undefined;
  if (removal) p.removals.push(removal);
  const applied = (yield context.df.callActivityWithRetry(ACTIVITIES.applyPlan, RETRY, {
    policyId: input.policyId,
    changeHash: plan.changeHash,
    baseHash: plan.baseHash,
    hash: plan.hash,
  })) as ApplyOutput;
  p.later.push(...p.changes.take());
  log(EVENTS.planApplied, {
    hash: plan.hash,
    changeHash: plan.changeHash,
    outcome: applied.outcome,
    writes: applied.writes,
    converged: applied.converged,
    approver: taken?.approver ?? "",
    ...(applied.detail ? { detail: applied.detail } : {}),
  });
  const by = taken ? { approver: taken.approver, decision: taken } : {};
  if (applied.outcome === "failed")
    return record("failed", `Azure failed the write: ${applied.detail ?? "no error given"}`, by);
  if (applied.outcome === "superseded") {
    if (removal) p.removals.splice(p.removals.indexOf(removal), 1);
    return record(
      "superseded",
      "the group or the estate moved before the write; nothing written; planning again",
      by,
    );
  }
  if (!applied.converged)
    return record(
      "not-converged",
      `applied with ${applied.writes} write(s), but ${applied.detail ?? "drift remains"}`,
      by,
    );
  // Adopted only once Azure reports the write that carries it as done.
  yield* answer("adopted", taken?.approver);
  return record(
    "applied",
    `applied ${plan.changes} change(s) with ${applied.writes} write(s)${taken ? `, approved by ${taken.approver}` : ""}${candidate ? `; page ${candidate.version} adopted` : ""}`,
    by,
  );
}

type Waited =
  | { kind: "decided"; decision: DecisionTaken }
  | { kind: "expired"; approvalId: string }
  | { kind: "superseded"; approvalId: string };

/**
 * Asks a person and waits for one verified decision on this exact change, the approval's expiry, or
 * the change moving. Change events are debounced like any other (one re-plan per window at most).
 */
function* awaitApproval(
  p: PassContext,
  gathered: GatherOutput,
  reasons: string[],
): Generator<Task, Waited, unknown> {
  const { context, input, status, log } = p;
  const settings = p.settings;
  const plan = gathered.plan;
  // Random, never derived from the pass: a token for an earlier approval can never match a later one.
  const approvalId = context.df.newGuid(`${context.df.instanceId}/approval/${plan.changeHash}`);
  const expiresAt = new Date(
    context.df.currentUtcDateTime.getTime() + settings.approvalTimeoutMinutes * 60_000,
  ).toISOString();
  (yield context.df.callActivityWithRetry(ACTIVITIES.requestApproval, RETRY, {
    policyId: input.policyId,
    pass: input.pass,
    instanceId: context.df.instanceId,
    approvalId,
    changeHash: plan.changeHash,
    expiresAt,
    reasons,
    summary: gathered.summary,
  })) as RequestApprovalOutput;
  p.later.push(...p.changes.take());
  const pendingApproval: PendingApproval = {
    approvalId,
    changeHash: plan.changeHash,
    expiresAt,
    reasons: reasons.map(clip),
    summary: clip(gathered.summary),
  };
  const waiting = () => status({ phase: "awaiting-approval", plan: planStatus(plan), pendingApproval });
  waiting();

  const decisions = new Mailbox<ApprovalDecision>(context, EVENT_APPROVAL);
  // Change events no re-plan has covered yet: if the wait ends first, they start the next pass.
  const unplanned = p.later.splice(0);
  const leave = (waited: Waited): Waited => {
    p.later.push(...unplanned);
    return waited;
  };
  // One timer per round: the re-plan's due time while one is scheduled (it comes first), else the
  // expiry, or a wake-up when the expiry is further away than a timer should wait (MAX_TIMER_MS).
  // Each round gets a fresh timer (a timer yielded again re-emits its action, which replay rejects).
  let replanAt: number | undefined =
    unplanned.length > 0 ? debounceEnd(context, settings.debounceSeconds).getTime() : undefined;
  let fired: "replan" | "wake" | undefined;

  for (;;) {
    // Decisions first, whichever waiter they landed on (one raised during a re-plan lands on a waiter
    // no Task.any is watching): checked before waiting again, so none sits unread.
    const taken = yield* firstValidDecision(p, decisions.take(), approvalId, plan);
    if (taken !== undefined) {
      status({ phase: "applying", plan: planStatus(plan), decided: taken });
      // Later decisions for this approval stay in the mailbox, unread: exactly one takes effect.
      return leave({ kind: "decided", decision: taken });
    }
    const now = context.df.currentUtcDateTime.getTime();
    if (fired === "wake" && now >= Date.parse(expiresAt)) {
      log(EVENTS.approvalExpired, { approvalId, changeHash: plan.changeHash });
      return leave({ kind: "expired", approvalId });
    }
    const moved = p.changes.take();
    unplanned.push(...moved);
    if (moved.length > 0 && replanAt === undefined)
      replanAt = debounceEnd(context, settings.debounceSeconds).getTime();
    if (fired === "replan") {
      replanAt = undefined;
      unplanned.length = 0; // this re-plan reads what they announced
      status({ phase: "planning", plan: planStatus(plan), pendingApproval });
      const again = yield* gather(p);
      // Events that came in while it read may not be in what it read: another window for them.
      unplanned.push(...p.later.splice(0));
      if (again.plan.changeHash !== plan.changeHash) {
        log(EVENTS.approvalSuperseded, {
          approvalId,
          changeHash: plan.changeHash,
          newChangeHash: again.plan.changeHash,
        });
        return leave({ kind: "superseded", approvalId });
      }
      if (unplanned.length > 0) replanAt = debounceEnd(context, settings.debounceSeconds).getTime();
      waiting();
      fired = undefined;
      continue; // look at what arrived during the re-plan before waiting again
    }
    const wakeAt = Math.min(Date.parse(expiresAt), now + MAX_TIMER_MS);
    const due = replanAt !== undefined && replanAt < wakeAt ? replanAt : wakeAt;
    const timer: TimerTask = context.df.createTimer(new Date(due));
    const winner = (yield context.df.Task.any([decisions.waiter(), p.changes.waiter(), timer])) as Task;
    if (winner === timer) fired = due === replanAt ? "replan" : "wake";
    else {
      timer.cancel();
      fired = undefined;
    }
  }
}

/**
 * The decision that takes effect among those received, or undefined: each is checked (this approval,
 * this change, a proof from the approval endpoint); when several valid ones arrived together, a
 * reject wins, since their arrival order is not known.
 */
function* firstValidDecision(
  p: PassContext,
  received: ApprovalDecision[],
  approvalId: string,
  plan: PlanSummary,
): Generator<Task, DecisionTaken | undefined, unknown> {
  const valid: ApprovalDecision[] = [];
  for (const answer of received) {
    const verdict = yield* check(p.context, answer, approvalId, plan.changeHash);
    if (verdict === "ok") valid.push(answer);
    else p.log(EVENTS.approvalRefused, { approvalId, reason: verdict });
  }
  const answer = valid.find((a) => a.decision === "reject") ?? valid[0];
  if (answer === undefined) return undefined;
  const taken: DecisionTaken = {
    approvalId,
    decisionId: answer.decisionId,
    decision: answer.decision,
    approver: answer.approver,
    ...(answer.comment ? { comment: clip(answer.comment) } : {}),
    at: p.context.df.currentUtcDateTime.toISOString(),
  };
  p.log(EVENTS.approvalDecided, {
    approvalId,
    hash: plan.hash,
    changeHash: plan.changeHash,
    decision: taken.decision,
    approver: taken.approver,
    comment: answer.comment ?? "",
  });
  return taken;
}

function debounceEnd(context: OrchestrationContext, seconds: number): Date {
  return addSeconds(context.df.currentUtcDateTime, seconds);
}

/**
 * A decision counts only for this approval, this change, and with a proof made with the signing key
 * (checked by an activity: the orchestrator holds no key, and replay reads the recorded answer).
 */
function* check(
  context: OrchestrationContext,
  answer: ApprovalDecision,
  approvalId: string,
  changeHash: string,
): Generator<Task, "ok" | string, unknown> {
  if (typeof answer !== "object" || answer === null) return "not a decision";
  if (answer.approvalId !== approvalId) return "for another approval";
  if (answer.changeHash !== changeHash) return "for another change";
  if (answer.decision !== "approve" && answer.decision !== "reject") return "no decision";
  if (typeof answer.decisionId !== "string" || typeof answer.approver !== "string") return "incomplete";
  if (typeof answer.proof !== "string" || answer.proof.length > 200) return "no proof";
  const proven = (yield context.df.callActivity(ACTIVITIES.verifyDecision, {
    instanceId: context.df.instanceId,
    approvalId,
    changeHash,
    decision: answer.decision,
    decisionId: answer.decisionId,
    approver: answer.approver,
    proof: answer.proof,
  })) as boolean;
  return proven ? "ok" : "proof does not verify (not raised by the approval endpoint)";
}
