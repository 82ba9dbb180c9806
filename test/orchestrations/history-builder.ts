// Drives the reconciler through durable-functions' own orchestrator replay (the Orchestrator and
// TaskOrchestrationExecutor of the installed 3.5.0), without a Functions host or an engine: a
// simulation builds the orchestration history one batch at a time, the way the Durable extension on
// Azure Storage would hand it over, and answers every scheduled activity itself.
//
// Each batch (an orchestrator episode) is OrchestratorStarted followed by the messages of that batch:
// activity completions, timer firings, raised events, in the order a script says. After each batch
// the orchestrator runs on the whole history (earlier events IsPlayed), and what it newly schedules
// is recorded as TaskScheduled/TimerCreated with the sequence ids both sides assign (in order of the
// flattened actions, as TaskOrchestrationExecutor.trackOpenTask and the extension's replay do).
//
// What the platform does is modelled where the reconciler depends on it:
// - timers fire no earlier than their fireAt (the batch's time moves up to it), and a timer can fire
//   only once every timer due earlier has fired (or is due by the batch's clock too); cancelled timers
//   still fire, as Durable timers do;
// - events raised in a batch after the point where the orchestrator continued as new are carried over
//   to the new execution (DurableTask.Core's BehaviorOnContinueAsNew.Carryover, the Azure Storage
//   default); everything else of the old execution is gone;
// - duplicates: an event can be raised twice with the same payload, and an activity completion or a
//   timer firing can be delivered twice (at-least-once queues).
//
// checkExecution() reads an execution's history and says which invariant broke, if any.
import { createRequire } from "node:module";
import type { OrchestrationHandler } from "durable-functions";
import * as df from "durable-functions";
import { decide, removalsWithin } from "../../drift/decision";
import { EventType, history as events, type HistoryEvent } from "../../local/durable/history";
import { replayActions } from "../../local/durable/replay";
import type { ApplyOutput, GatherOutput } from "../../orchestrations/activity-names";
import {
  type ApprovalDecision,
  type ChangeReason,
  EVENT_APPROVAL,
  EVENT_CHANGED,
  RECONCILER,
  type ReconcilerInput,
  type ReconcilerStatus,
  reconcilerOrchestrator,
} from "../../orchestrations/reconciler";

// The SDK's Orchestrator is what df.app.orchestration registers (via createOrchestrator); it is not in
// the package's public types, so it is loaded by path (the package has no "exports" map).
const load = createRequire(__filename);
type OrchestratorListener = (trigger: unknown, context: unknown) => Promise<unknown>;
const { Orchestrator } = load("durable-functions/lib/src/orchestrations/Orchestrator") as {
  Orchestrator: new (fn: OrchestrationHandler) => { listen(): OrchestratorListener };
};

export const INSTANCE_ID = "policy-0123456789abcdef0123456789abcdef";
/** durable-functions' ReplaySchema numbers: the extension advertises V3 in upperSchemaVersionNew. */
const SCHEMA_V2 = 1;
const SCHEMA_V3 = 2;
/** Custom status must stay well below the extension's 16 KB (UTF-16) limit, about 8,700 characters. */
export const STATUS_BUDGET = 8000;
/** The status and the input list at most this many recent passes, newest first. */
export const RECENT_MAX = 5;

const recentList = (recent: readonly { pass: number }[]) =>
  recent.length <= RECENT_MAX && recent.every((p, i) => i === 0 || p.pass < (recent[i - 1]?.pass ?? 0));

const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  WhenAny: 11,
  WhenAll: 12,
} as const;

interface ActionJson {
  actionType: number;
  functionName?: string;
  input?: unknown;
  fireAt?: string;
  isCanceled?: boolean;
  compoundActions?: ActionJson[];
}

interface OrchestratorState {
  isDone: boolean;
  actions: ActionJson[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion?: number;
}

export interface EpisodeRun {
  state?: OrchestratorState;
  /** The orchestrator threw (durable-functions failed the episode). */
  error?: string;
  logs: string[];
}

/** One run of the orchestrator function over a history, as the Functions worker would invoke it. */
export async function runOrchestrator(
  past: readonly HistoryEvent[],
  fresh: readonly HistoryEvent[],
  input: unknown,
  orchestrator: OrchestrationHandler = reconcilerOrchestrator,
): Promise<EpisodeRun> {
  const logs: string[] = [];
  const context = new df.DummyOrchestrationContext(RECONCILER, "invocation", (_level, ...args) => {
    logs.push(args.map(String).join(" "));
  });
  // durable-functions turns Timestamp strings into Dates in place: hand it copies (events' other
  // fields are text and numbers).
  const trigger = {
    history: [
      ...past.map((e) => ({ ...e, IsPlayed: true })),
      ...fresh.map((e) => ({ ...e, IsPlayed: false })),
    ],
    input: structuredClone(input),
    instanceId: INSTANCE_ID,
    isReplaying: past.length > 0,
    parentInstanceId: null,
    upperSchemaVersion: SCHEMA_V2,
    upperSchemaVersionNew: SCHEMA_V3,
    longRunningTimerIntervalDuration: "3.00:00:00",
    maximumShortTimerDuration: "6.00:00:00",
    defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  };
  try {
    const state = (await new Orchestrator(orchestrator).listen()(trigger, context)) as OrchestratorState;
    // The worker sends the extension JSON: timers' Dates become ISO text (the rest is JSON already).
    const iso = (action: ActionJson) => {
      const fireAt = action.fireAt as unknown;
      if (fireAt instanceof Date) action.fireAt = fireAt.toISOString();
      for (const child of action.compoundActions ?? []) iso(child);
    };
    for (const action of state.actions[0] ?? []) iso(action);
    return { state, logs };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error), logs };
  }
}

/** A task or timer the orchestrator scheduled, in sequence-id order. */
export type Scheduled =
  | { kind: "activity"; name: string; input: string }
  | { kind: "timer"; fireAt: string; canceled: boolean };

/** The schedulable actions in the order both sides number them (waiters and continueAsNew get none). */
export function scheduledOf(state: OrchestratorState): Scheduled[] {
  const out: Scheduled[] = [];
  const walk = (action: ActionJson) => {
    switch (action.actionType) {
      case ActionType.CallActivity:
      case ActionType.CallActivityWithRetry:
        out.push({
          kind: "activity",
          name: String(action.functionName),
          input: JSON.stringify(action.input),
        });
        break;
      case ActionType.CreateTimer:
        out.push({ kind: "timer", fireAt: String(action.fireAt), canceled: action.isCanceled === true });
        break;
      case ActionType.WhenAny:
      case ActionType.WhenAll:
        for (const child of action.compoundActions ?? []) walk(child);
        break;
      default:
        break;
    }
  };
  for (const action of state.actions[0] ?? []) walk(action);
  return out;
}

function sameScheduled(a: Scheduled, b: Scheduled): boolean {
  if (a.kind === "activity" && b.kind === "activity") return a.name === b.name && a.input === b.input;
  if (a.kind === "timer" && b.kind === "timer") return Date.parse(a.fireAt) === Date.parse(b.fireAt);
  return false;
}

function describeScheduled(s: Scheduled): string {
  return s.kind === "activity" ? `${s.name}(${s.input.slice(0, 120)})` : `timer@${s.fireAt}`;
}

// ---------------------------------------------------------------------------------------------
// Scenarios

export interface Answers {
  /** The n-th gatherAndPlan answers gathers[n % length]. */
  gathers: GatherOutput[];
  applies: ApplyOutput[];
  published: boolean[];
}

export type ApprovalTarget = "current" | "earlier" | "other-change" | "no-proof" | "not-a-decision";

export type Step =
  /**
   * Raise "changed": a new event (unique eventId), or again one raised before (dupOf). `hold` keeps
   * it back until an approval is awaited, or until the pass is over (then it goes right after the
   * next message delivered, e.g. the firing of the timer that ends the pass).
   */
  | {
      kind: "change";
      detailLength: number;
      eventIdLength: number;
      dupOf?: number;
      hold?: "approval" | "pass-end";
      /** When held for an approval: how many batches after the request it is raised. */
      delay?: number;
    }
  /**
   * Raise "approval": for the latest approval requested ("current", known once requestApproval is
   * scheduled: the link may be used before the activity's completion arrives; one scripted before any
   * request is held back until there is one), or one that does not fit. `valid` is what
   * verifyDecision answers for its proof; dupOf raises an earlier one again.
   */
  | {
      kind: "approval";
      target: ApprovalTarget;
      decision: "approve" | "reject";
      valid: boolean;
      approverLength: number;
      commentLength: number;
      dupOf?: number;
      /** When held back for a request: how many batches after it the approver answers. */
      delay?: number;
    }
  /**
   * Complete an outstanding activity or fire a timer that is due (pick modulo those eligible); with
   * `wait`, time may pass until the earliest timer is due when nothing else is.
   */
  | { kind: "deliver"; pick: number; wait: boolean }
  /** Deliver an already delivered completion or firing again. */
  | { kind: "redeliver"; pick: number }
  /** End the batch: the orchestrator runs (an episode); the clock moves on by advanceMs at least. */
  | { kind: "batch"; advanceMs: number };

export interface Scenario {
  input: ReconcilerInput;
  answers: Answers;
  steps: Step[];
  startAt?: string;
  /** Stop after this many executions (continue-as-new chains) or episodes. */
  maxExecutions?: number;
  maxEpisodes?: number;
  /** Also let the local engine's model of the extension (local/durable/replay.ts) replay each episode. */
  crossCheckEngineReplay?: boolean;
  /** Another orchestrator than the reconciler: to see the checks catch what they should. */
  orchestrator?: OrchestrationHandler;
}

interface Held {
  step: Step;
  until: "approval" | "pass-end";
  afterBatches?: number;
}

interface Work {
  id: number;
  kind: "activity" | "timer";
  name?: string;
  input?: string;
  fireAt?: string;
  /** The completion event once delivered (for duplicates). */
  delivered?: HistoryEvent;
}

export interface EpisodeRecord {
  /** Index in the execution's history of this episode's OrchestratorStarted. */
  start: number;
  /** Index after this episode's new messages (where TaskScheduled/TimerCreated go). */
  end: number;
  customStatus?: ReconcilerStatus;
  logs: string[];
  newScheduled: Scheduled[];
}

export interface ExecutionRecord {
  input: ReconcilerInput;
  history: HistoryEvent[];
  episodes: EpisodeRecord[];
  /** History positions of the events whose processing made the orchestrator schedule each gatherAndPlan. */
  gatherTriggers: number[];
  /** History position of the event whose processing made it continue as new. */
  continueAt?: number;
  continueAsNew?: ReconcilerInput;
  /** Events of the last batch after continueAt: carried over to the next execution. */
  carriedOut: HistoryEvent[];
  /** Why this execution stopped, when it did not continue as new. */
  stopped?: "idle" | "stuck" | "limit" | "failed";
  violations: string[];
}

export interface SimulationResult {
  executions: ExecutionRecord[];
  /** Every violation found while running (checks 2 and 3) and by checkExecution (1 and 4). */
  violations: string[];
}

const T0 = Date.parse("2025-03-01T08:00:00.000Z");

/** Runs a scenario to its end: every step, then the outstanding work, until idle or a limit. */
export async function simulate(scenario: Scenario): Promise<SimulationResult> {
  const sim = new Simulation(scenario);
  await sim.run();
  const violations: string[] = [];
  sim.executions.forEach((rec, i) => {
    for (const v of rec.violations) violations.push(`execution ${i + 1}: ${v}`);
    for (const v of checkExecution(rec)) violations.push(`execution ${i + 1}: ${v}`);
  });
  return { executions: sim.executions, violations };
}

class Simulation {
  readonly executions: ExecutionRecord[] = [];
  readonly #scenario: Scenario;
  #clock: number;
  #episodes = 0;
  #serial = 0;
  #gatherCount = 0;
  #applyCount = 0;
  #publishCount = 0;
  readonly #changes: ChangeReason[] = [];
  readonly #approvals: unknown[] = [];
  /** proof → what verifyDecision answers for it. */
  readonly #proofs = new Map<string, boolean>();
  /** Events scripted to wait for a moment: an approval awaited, or the pass over. */
  #held: Held[] = [];
  /** Batches of this execution since it first asked for an approval. */
  #batchesSinceRequest = 0;
  // The current execution.
  #rec!: ExecutionRecord;
  #batch: HistoryEvent[] = [];
  #outstanding: Work[] = [];
  #delivered: Work[] = [];
  #scheduled: Scheduled[] = [];
  /** Timers the orchestrator cancelled (they still fire). */
  #canceled = new Set<number>();
  #done = false;

  constructor(scenario: Scenario) {
    this.#scenario = scenario;
    this.#clock = scenario.startAt ? Date.parse(scenario.startAt) : T0;
  }

  async run(): Promise<void> {
    this.#startExecution(this.#scenario.input, []);
    const maxExecutions = this.#scenario.maxExecutions ?? 3;
    const maxEpisodes = this.#scenario.maxEpisodes ?? 600;
    const limited = () => this.executions.length > maxExecutions || this.#episodes >= maxEpisodes;
    for (const step of this.#scenario.steps) {
      if (this.#done) {
        if (this.#rec.stopped !== undefined || !(await this.#next())) return;
      }
      if (limited()) return this.#stop("limit");
      await this.#step(step);
    }
    // The script is over: let the work outstanding finish (one message per batch) until nothing moves.
    for (;;) {
      if (this.#done) {
        if (this.#rec.stopped !== undefined || !(await this.#next())) return;
        continue;
      }
      if (limited()) return this.#stop("limit");
      await this.#release("approval");
      if (this.#batch.length > 0) {
        await this.#endBatch(1000);
        continue;
      }
      // One message that matters per batch, with the cancelled timers due by then (no-ops, but they
      // fire): an activity's completion, else the earliest live timer, else the cancelled ones.
      const activity = this.#outstanding.find((w) => w.kind === "activity");
      const timers = this.#outstanding
        .filter((w) => w.kind === "timer")
        .sort((a, b) => Date.parse(a.fireAt!) - Date.parse(b.fireAt!) || a.id - b.id);
      const live = timers.find((t) => !this.#canceled.has(t.id));
      const work = activity ?? live ?? timers[timers.length - 1];
      if (work === undefined) {
        // Nothing will ever arrive: fine only when the reconciler idles, waiting for a change.
        const status = this.#lastStatus();
        return this.#stop(status?.phase === "idle" ? "idle" : "stuck");
      }
      const until = work.kind === "timer" ? Date.parse(work.fireAt!) : this.#clock;
      for (const t of timers)
        if (t !== work && this.#canceled.has(t.id) && Date.parse(t.fireAt!) <= until) this.#deliver(t);
      this.#deliver(work);
      await this.#release("pass-end");
      await this.#endBatch(1000);
    }
  }

  #stop(why: NonNullable<ExecutionRecord["stopped"]>): void {
    if (this.#rec.stopped === undefined && !this.#rec.continueAsNew) this.#rec.stopped = why;
    if (why === "stuck")
      this.#rec.violations.push(
        `nothing outstanding and no continue-as-new, but the status says "${this.#lastStatus()?.phase}"`,
      );
  }

  #lastStatus(): ReconcilerStatus | undefined {
    for (let i = this.#rec.episodes.length - 1; i >= 0; i--) {
      const s = this.#rec.episodes[i]?.customStatus;
      if (s !== undefined) return s;
    }
    return undefined;
  }

  /** Starts the next execution after a continue-as-new; false when the limit is reached. */
  async #next(): Promise<boolean> {
    const rec = this.#rec;
    if (rec.continueAsNew === undefined) return false;
    if (this.executions.length >= (this.#scenario.maxExecutions ?? 3)) return false;
    this.#startExecution(rec.continueAsNew, rec.carriedOut);
    return true;
  }

  #startExecution(input: ReconcilerInput, carried: HistoryEvent[]): void {
    this.#rec = {
      input,
      history: [],
      episodes: [],
      gatherTriggers: [],
      carriedOut: [],
      violations: [],
    };
    this.executions.push(this.#rec);
    this.#outstanding = [];
    this.#delivered = [];
    this.#scheduled = [];
    this.#canceled = new Set();
    this.#done = false;
    this.#batchesSinceRequest = 0;
    this.#batch = [
      events.executionStarted(new Date(this.#clock), INSTANCE_ID, "exec", RECONCILER, JSON.stringify(input)),
      ...carried.map((e) => ({ ...e })),
    ];
  }

  /** Raises the held events whose moment has come. */
  async #release(moment: "approval" | "pass-end"): Promise<void> {
    if (this.#held.length === 0) return;
    if (moment === "approval" && this.#requestedApprovals().length === 0) return;
    if (moment === "pass-end") {
      const status = this.#lastStatus();
      if (status?.phase !== "idle" || status.last?.pass !== this.#rec.input.pass) return;
    }
    const due = (h: Held) => h.until === moment && (h.afterBatches ?? 0) <= this.#batchesSinceRequest;
    const now = this.#held.filter(due);
    this.#held = this.#held.filter((h) => !due(h));
    for (const h of now) await this.#step(h.step, true);
  }

  async #step(step: Step, released = false): Promise<void> {
    if (!released) await this.#release("approval");
    switch (step.kind) {
      case "change": {
        if (!released && step.hold !== undefined) {
          this.#held.push({
            step,
            until: step.hold,
            afterBatches: step.hold === "approval" ? (step.delay ?? 0) : 0,
          });
          return;
        }
        let reason: ChangeReason;
        const earlier = this.#changes.length > 0 && step.dupOf !== undefined;
        if (earlier) reason = this.#changes[step.dupOf! % this.#changes.length]!;
        else {
          const n = ++this.#serial;
          const eventId = `ev-${n}-`.padEnd(Math.max(6, step.eventIdLength), "x");
          reason = {
            source: "event",
            detail: `Microsoft.Network/firewallPolicies/write #${n} `.padEnd(step.detailLength, "d"),
            eventId,
          };
          this.#changes.push(reason);
        }
        this.#batch.push(events.eventRaised(new Date(this.#clock), EVENT_CHANGED, JSON.stringify(reason)));
        return;
      }
      case "approval": {
        if (
          step.target === "current" &&
          step.dupOf === undefined &&
          this.#requestedApprovals().length === 0
        ) {
          this.#held.push({ step, until: "approval", afterBatches: step.delay ?? 0 });
          return;
        }
        let payload: unknown;
        if (step.dupOf !== undefined && this.#approvals.length > 0)
          payload = this.#approvals[step.dupOf % this.#approvals.length];
        else {
          payload = this.#approval(step);
          this.#approvals.push(payload);
        }
        this.#batch.push(events.eventRaised(new Date(this.#clock), EVENT_APPROVAL, JSON.stringify(payload)));
        return;
      }
      case "deliver": {
        const activities = this.#outstanding.filter((w) => w.kind === "activity");
        const due = this.#eligibleTimers(step.wait || activities.length > 0 ? "next" : "due");
        const eligible = [...activities, ...due];
        const work = eligible[step.pick % Math.max(1, eligible.length)];
        if (work !== undefined) {
          this.#deliver(work);
          await this.#release("pass-end");
        }
        return;
      }
      case "redeliver": {
        const work = this.#delivered[step.pick % Math.max(1, this.#delivered.length)];
        if (work?.delivered !== undefined) this.#batch.push({ ...work.delivered });
        return;
      }
      case "batch":
        if (this.#batch.length > 0) await this.#endBatch(step.advanceMs);
        return;
    }
  }

  #approval(step: Extract<Step, { kind: "approval" }>): unknown {
    const n = ++this.#serial;
    if (step.target === "not-a-decision") return `approve please #${n}`;
    const requested = this.#requestedApprovals();
    const current = requested[requested.length - 1];
    const earlier = requested.length > 1 ? requested[0] : undefined;
    const target =
      step.target === "earlier"
        ? (earlier ?? { approvalId: `stale-${n}`, changeHash: "stale" })
        : (current ?? { approvalId: `unsolicited-${n}`, changeHash: "none" });
    const proof = `proof-${n}`;
    this.#proofs.set(proof, step.valid);
    const decision: ApprovalDecision = {
      approvalId: target.approvalId,
      changeHash: step.target === "other-change" ? `${target.changeHash}-other` : target.changeHash,
      decision: step.decision,
      decisionId: `decision-${n}`,
      approver: `approver-${n}@contoso.example`.padEnd(step.approverLength, "a"),
      ...(step.commentLength > 0 ? { comment: "c".repeat(step.commentLength) } : {}),
      proof: step.target === "no-proof" ? "p".repeat(201) : proof,
    };
    return decision;
  }

  /** The approvals this execution asked for so far (requestApproval inputs), oldest first. */
  #requestedApprovals(): { approvalId: string; changeHash: string }[] {
    return this.#rec.history
      .filter((e) => e.EventType === EventType.TaskScheduled && e.Name === "requestApproval")
      .map((e) => JSON.parse(String(e.Input)) as { approvalId: string; changeHash: string });
  }

  /**
   * Timers that may fire now: those the clock has passed ("due"), or also the earliest one when time
   * may pass until it ("next"). A timer never fires before one due earlier is due too.
   */
  #eligibleTimers(which: "due" | "next" = "next"): Work[] {
    const timers = this.#outstanding.filter((w) => w.kind === "timer");
    if (timers.length === 0) return [];
    const earliest = Math.min(...timers.map((t) => Date.parse(t.fireAt!)));
    const horizon = which === "next" ? Math.max(earliest, this.#clock) : this.#clock;
    return timers.filter((t) => Date.parse(t.fireAt!) <= horizon);
  }

  #deliver(work: Work): void {
    this.#outstanding = this.#outstanding.filter((w) => w !== work);
    let event: HistoryEvent;
    if (work.kind === "timer") event = events.timerFired(new Date(this.#clock), work.id, work.fireAt!);
    else event = events.taskCompleted(new Date(this.#clock), work.id, JSON.stringify(this.#answer(work)));
    work.delivered = event;
    this.#delivered.push(work);
    this.#batch.push(event);
  }

  #answer(work: Work): unknown {
    const { answers } = this.#scenario;
    switch (work.name) {
      case "gatherAndPlan":
        return answers.gathers[this.#gatherCount++ % answers.gathers.length];
      case "applyPlan":
        return answers.applies[this.#applyCount++ % answers.applies.length];
      case "requestApproval":
        return { published: answers.published[this.#publishCount++ % answers.published.length] ?? true };
      case "verifyDecision": {
        const input = JSON.parse(work.input ?? "{}") as { proof?: unknown };
        return this.#proofs.get(String(input.proof)) === true;
      }
      default:
        throw new Error(`no answer for activity ${work.name}`);
    }
  }

  async #endBatch(advanceMs: number): Promise<void> {
    const rec = this.#rec;
    // The batch happens no earlier than every timer it fires.
    let at = this.#clock + advanceMs;
    for (const e of this.#batch)
      if (e.EventType === EventType.TimerFired) at = Math.max(at, Date.parse(String(e.FireAt)));
    this.#clock = at;
    const stamp = new Date(at).toISOString();
    const fresh = [
      events.orchestratorStarted(new Date(at)),
      ...this.#batch.map((e) => ({ ...e, Timestamp: stamp })),
    ];
    this.#batch = [];
    this.#episodes++;
    if (this.#requestedApprovals().length > 0) this.#batchesSinceRequest++;
    const past = rec.history;
    const start = past.length;
    const run = await runOrchestrator(past, fresh, rec.input, this.#scenario.orchestrator);
    const state = run.state;
    const episode: EpisodeRecord = { start, end: start + fresh.length, logs: run.logs, newScheduled: [] };
    rec.episodes.push(episode);
    if (state === undefined || state.error !== undefined) {
      rec.violations.push(
        `the orchestrator failed in episode ${rec.episodes.length}: ${run.error ?? state?.error}`,
      );
      rec.history.push(...fresh);
      this.#done = true;
      rec.stopped = "failed";
      return;
    }
    if (state.customStatus !== undefined) {
      episode.customStatus = state.customStatus as ReconcilerStatus;
      const size = JSON.stringify(state.customStatus).length;
      if (size >= STATUS_BUDGET)
        rec.violations.push(`custom status of ${size} characters in episode ${rec.episodes.length}`);
      const recent = episode.customStatus.recent;
      if (recent !== undefined && !recentList(recent))
        rec.violations.push(
          `custom status lists recent passes ${recent.map((p) => p.pass).join(", ")} in episode ${rec.episodes.length}`,
        );
    }

    // Replay: what was scheduled before must come back the same, in the same order.
    const scheduled = scheduledOf(state);
    for (let i = 0; i < this.#scheduled.length; i++) {
      const before = this.#scheduled[i]!;
      const now = scheduled[i];
      if (now === undefined || !sameScheduled(before, now)) {
        rec.violations.push(
          `replay diverged in episode ${rec.episodes.length}: task ${i} was ${describeScheduled(before)}, now ${
            now ? describeScheduled(now) : "nothing"
          }`,
        );
        break;
      }
    }
    // ...and what the history recorded (TaskScheduled/TimerCreated) is what the SDK emits there.
    for (const e of past) {
      if (e.EventType !== EventType.TaskScheduled && e.EventType !== EventType.TimerCreated) continue;
      const now = scheduled[e.EventId];
      const recorded: Scheduled =
        e.EventType === EventType.TaskScheduled
          ? { kind: "activity", name: String(e.Name), input: String(e.Input) }
          : { kind: "timer", fireAt: String(e.FireAt), canceled: false };
      if (now === undefined || !sameScheduled(recorded, now)) {
        rec.violations.push(
          `episode ${rec.episodes.length}: history has ${describeScheduled(recorded)} as task ${e.EventId}, the SDK now emits ${
            now ? describeScheduled(now) : "nothing"
          }`,
        );
        break;
      }
    }
    const full = [...past, ...fresh];
    const newScheduled = scheduled.slice(this.#scheduled.length);
    episode.newScheduled = newScheduled;
    if (this.#scenario.crossCheckEngineReplay !== false) {
      const engine = replayActions(full, state.actions, {
        resolveActivity: (name) => name,
        schemaVersion: state.schemaVersion ?? SCHEMA_V3,
      });
      const mine = newScheduled.map((s, k) => ({ ...s, id: this.#scheduled.length + k }));
      const theirs = [
        ...engine.activities.map((a) => ({ id: a.id, kind: "activity" })),
        ...engine.timers.map((t) => ({ id: t.id, kind: "timer" })),
      ].sort((a, b) => a.id - b.id);
      if (
        engine.failure !== undefined ||
        theirs.length !== mine.length ||
        theirs.some((t, k) => t.id !== mine[k]?.id || t.kind !== mine[k]?.kind)
      )
        rec.violations.push(
          `episode ${rec.episodes.length}: the extension's replay (local/durable/replay.ts) disagrees: ${
            engine.failure ??
            JSON.stringify({ engine: theirs, sdk: mine.map(({ id, kind }) => ({ id, kind })) })
          }`,
        );
    }

    // Where in this batch things happened: which event made it schedule a gatherAndPlan, or finish.
    const gathersBefore = this.#scheduled.filter(isGather).length;
    const gathersNow = scheduled.filter(isGather).length;
    for (let g = gathersBefore + 1; g <= gathersNow; g++) {
      rec.gatherTriggers.push(
        start +
          (await this.#firstPrefix(past, fresh, (s) => scheduledOf(s).filter(isGather).length >= g)) -
          1,
      );
    }
    rec.history.push(...fresh);
    const at0 = new Date(at);
    for (const [k, s] of newScheduled.entries()) {
      const id = this.#scheduled.length + k;
      if (s.kind === "activity") {
        rec.history.push(events.taskScheduled(at0, id, s.name, s.input));
        this.#outstanding.push({ id, kind: "activity", name: s.name, input: s.input });
      } else {
        rec.history.push(events.timerCreated(at0, id, new Date(s.fireAt).toISOString()));
        this.#outstanding.push({ id, kind: "timer", fireAt: new Date(s.fireAt).toISOString() });
      }
    }
    this.#scheduled = scheduled;
    scheduled.forEach((s, id) => {
      if (s.kind === "timer" && s.canceled) this.#canceled.add(id);
    });
    rec.history.push(events.orchestratorCompleted(at0));

    if (state.isDone) {
      this.#done = true;
      const can = (state.actions[0] ?? []).find((a) => a.actionType === ActionType.ContinueAsNew);
      if (can === undefined) {
        rec.violations.push(
          `the orchestrator completed without continuing as new (output ${String(state.output)})`,
        );
        rec.stopped = "failed";
        return;
      }
      rec.continueAsNew = can.input as ReconcilerInput;
      const recent = rec.continueAsNew.recent ?? [];
      if (!recentList(recent) || recent[0]?.pass !== rec.continueAsNew.last?.pass)
        rec.violations.push(
          `continue-as-new carries recent passes ${recent.map((p) => p.pass).join(", ")} after pass ${rec.continueAsNew.last?.pass}`,
        );
      const k = await this.#firstPrefix(past, fresh, (s) => s.isDone);
      rec.continueAt = start + k - 1;
      rec.carriedOut = fresh.slice(k).filter((e) => e.EventType === EventType.EventRaised);
    }
  }

  /**
   * The shortest prefix of this batch (count of its events) after which `reached` holds, knowing it
   * holds after all of them (what the orchestrator did once, it does on any longer history).
   */
  async #firstPrefix(
    past: readonly HistoryEvent[],
    fresh: readonly HistoryEvent[],
    reached: (state: OrchestratorState) => boolean,
  ): Promise<number> {
    let low = 1;
    let high = fresh.length;
    while (low < high) {
      const k = Math.floor((low + high) / 2);
      const run = await runOrchestrator(
        past,
        fresh.slice(0, k),
        this.#rec.input,
        this.#scenario.orchestrator,
      );
      if (run.state !== undefined && reached(run.state)) high = k;
      else low = k + 1;
    }
    return high;
  }
}

function isGather(s: Scheduled): boolean {
  return s.kind === "activity" && s.name === "gatherAndPlan";
}

// ---------------------------------------------------------------------------------------------
// Invariants read from an execution's history

interface Raised {
  position: number;
  payload: unknown;
}

function raised(rec: ExecutionRecord, name: string): Raised[] {
  const out: Raised[] = [];
  rec.history.forEach((e, position) => {
    if (e.EventType === EventType.EventRaised && e.Name === name)
      out.push({ position, payload: e.Input === null ? undefined : JSON.parse(String(e.Input)) });
  });
  return out;
}

/** How a reason is recognised after clipping: its eventId, else its source and the start of its text. */
function reasonKey(r: ChangeReason): string {
  return r.eventId !== undefined && r.eventId !== ""
    ? `id:${r.eventId}`
    : `${r.source}:${r.detail.slice(0, 40)}`;
}

function multiset(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

/** Keys in `part` beyond what `whole` holds (as multisets). */
function excess(part: string[], whole: string[]): string[] {
  const left = multiset(whole);
  const out: string[] = [];
  for (const k of part) {
    const n = left.get(k) ?? 0;
    if (n === 0) out.push(k);
    else left.set(k, n - 1);
  }
  return out;
}

const SUPERSEDED_DETAIL = "the change moved before it was written; planning again";
const isRetryReason = (r: ChangeReason) => r.source === "manual" && r.detail.startsWith("retry after");
const isSupersededReason = (r: ChangeReason) => r.source === "event" && r.detail === SUPERSEDED_DETAIL;

interface ScheduledAt {
  position: number;
  id: number;
  name: string;
  input: Record<string, unknown>;
}

function scheduledActivities(rec: ExecutionRecord, name: string): ScheduledAt[] {
  const out: ScheduledAt[] = [];
  rec.history.forEach((e, position) => {
    if (e.EventType === EventType.TaskScheduled && e.Name === name)
      out.push({
        position,
        id: e.EventId,
        name,
        input: JSON.parse(String(e.Input)) as Record<string, unknown>,
      });
  });
  return out;
}

function completionOf(rec: ExecutionRecord, id: number): { position: number; result: unknown } | undefined {
  const position = rec.history.findIndex(
    (e) => e.EventType === EventType.TaskCompleted && e.TaskScheduledId === id,
  );
  if (position < 0) return undefined;
  return { position, result: JSON.parse(String(rec.history[position]!.Result)) };
}

/** Invariants 1 (every change handled exactly once) and 4 (one verified decision per approval). */
export function checkExecution(rec: ExecutionRecord): string[] {
  const out: string[] = [];
  const changes = raised(rec, EVENT_CHANGED);
  const inputCount = rec.input.pendingCount ?? rec.input.pending.length;
  const firstGather = rec.gatherTriggers[0];

  // 1. Events processed before the debounce window closed count in this pass.
  if (firstGather !== undefined) {
    const pre = changes.filter((c) => c.position < firstGather);
    const episode = rec.episodes.find((e) => e.start <= firstGather && firstGather < e.end);
    const status = episode?.customStatus;
    if (status === undefined || status.phase !== "planning") {
      out.push(`no "planning" status in the episode that started the pass (got ${status?.phase})`);
    } else {
      const expected = inputCount + pre.length;
      if (status.reasonCount !== expected)
        out.push(
          `the pass counts ${status.reasonCount} reason(s); expected ${expected} (${inputCount} carried in, ${pre.length} raised before the window closed)`,
        );
      const known = [...rec.input.pending, ...pre.map((c) => c.payload as ChangeReason)].map(reasonKey);
      const listed = status.reasons.map(reasonKey);
      const unknown = excess(listed, known);
      if (unknown.length > 0)
        out.push(`the pass lists reasons that did not arrive for it: ${unknown.join(", ")}`);
      if (status.reasonCount <= 5 && excess(known, listed).length > 0)
        out.push(`the pass's reasons miss ${excess(known, listed).join(", ")}`);
    }
  }

  // 1. Events processed after it: read by a re-plan during the approval wait, or carried over.
  const can = rec.continueAsNew;
  if (firstGather !== undefined && can !== undefined && rec.continueAt !== undefined) {
    const lastReplan = Math.max(firstGather, ...rec.gatherTriggers.slice(1));
    const carried = changes.filter((c) => c.position > lastReplan && c.position < rec.continueAt!);
    const pending = can.pending ?? [];
    const count = can.pendingCount ?? pending.length;
    const superseded = can.last?.outcome === "superseded" ? 1 : 0;
    const retry = pending.some(isRetryReason) ? 1 : 0;
    if (superseded === 1 && !(pending[0] && isSupersededReason(pending[0])))
      out.push(`a superseded pass does not carry its own reason first`);
    if ((can.failures ?? 0) > 0 && carried.length === 0 && retry === 0)
      out.push(`a failed pass with nothing else pending carries no retry reason`);
    const expected = carried.length + superseded + retry;
    if (count !== expected)
      out.push(
        `continue-as-new carries ${count} reason(s); expected ${expected}: ${carried.length} change event(s) processed after the last plan read (${carried
          .map((c) => reasonKey(c.payload as ChangeReason))
          .join(", ")})${superseded ? " + superseded" : ""}${retry ? " + retry" : ""}`,
      );
    const events = pending.filter((r) => !isRetryReason(r) && !isSupersededReason(r)).map(reasonKey);
    const known = carried.map((c) => reasonKey(c.payload as ChangeReason));
    const unknown = excess(events, known);
    if (unknown.length > 0)
      out.push(`continue-as-new carries reasons not raised after the last plan: ${unknown.join(", ")}`);
    if (count <= 5 && excess(known, events).length > 0)
      out.push(`continue-as-new drops ${excess(known, events).join(", ")}`);
  }

  // 4. One decision per approval, verified, and only a verified approval leads to a write.
  const requests = scheduledActivities(rec, "requestApproval");
  const verifies = scheduledActivities(rec, "verifyDecision");
  const applies = scheduledActivities(rec, "applyPlan");
  if (applies.length > 1) out.push(`applyPlan scheduled ${applies.length} times in one pass`);
  if (requests.length > 1) out.push(`requestApproval scheduled ${requests.length} times in one pass`);
  const request = requests[0];
  const decided = new Map<string, string>();
  const statuses = rec.episodes.map((e) => e.customStatus).filter((s) => s !== undefined);
  for (const s of statuses) {
    for (const d of [s.decided, s.last?.decision]) {
      if (d === undefined) continue;
      if (s.last?.decision === d && s.last.pass !== rec.input.pass) continue; // the previous pass's
      const before = decided.get(d.approvalId);
      if (before !== undefined && before !== d.decisionId)
        out.push(`approval ${d.approvalId} decided twice: ${before}, then ${d.decisionId}`);
      decided.set(d.approvalId, d.decisionId);
    }
  }
  const decidedLogs = rec.episodes
    .flatMap((e) => e.logs)
    .filter((l) => l.startsWith("AksEgressGuard.ApprovalDecided"));
  if (decidedLogs.length > 1) out.push(`${decidedLogs.length} ApprovalDecided events in one pass`);
  for (const v of verifies) {
    if (request === undefined || v.position < request.position) {
      out.push(`verifyDecision scheduled with no approval requested`);
      continue;
    }
    if (v.input.approvalId !== request.input.approvalId || v.input.changeHash !== request.input.changeHash)
      out.push(
        `verifyDecision asked about another approval or change: ${JSON.stringify(v.input).slice(0, 200)}`,
      );
  }
  const verifiedTrue = (decisionId: unknown, before: number) =>
    verifies.some((v) => {
      if (v.input.decisionId !== decisionId) return false;
      const done = completionOf(rec, v.id);
      return done !== undefined && done.position < before && done.result === true;
    });
  for (const [approvalId, decisionId] of decided) {
    if (request === undefined || approvalId !== request.input.approvalId)
      out.push(`decision taken for approval ${approvalId}, which this pass did not request`);
    if (!verifiedTrue(decisionId, rec.history.length))
      out.push(`decision ${decisionId} taken without a verified proof`);
  }
  const apply = applies[0];
  if (apply !== undefined && request !== undefined && apply.position > request.position) {
    const taken = statuses.map((s) => s.decided).find((d) => d !== undefined);
    if (taken === undefined || taken.decision !== "approve")
      out.push(`applyPlan scheduled after an approval request with no approval taken`);
    else if (!verifiedTrue(taken.decisionId, apply.position))
      out.push(`applyPlan scheduled on decision ${taken.decisionId}, whose proof was not verified first`);
  }
  if (apply !== undefined && request === undefined) {
    // Without asking anybody: only when the rules say so.
    const gather = scheduledActivities(rec, "gatherAndPlan")[0];
    const done = gather ? completionOf(rec, gather.id) : undefined;
    if (done !== undefined && firstGather !== undefined && rec.input.settings !== undefined) {
      const output = done.result as GatherOutput;
      // The budget's records as of the pass's start, filtered with the window the pass began with.
      const now = new Date(String(rec.history[firstGather]?.Timestamp));
      const removals = removalsWithin(rec.input.removals ?? [], now, rec.input.settings.removalWindowHours);
      const decision = decide(output.plan, output.plan.mode, output.settings, removals);
      if (decision.outcome !== "apply")
        out.push(`applyPlan scheduled without approval although the decision is "${decision.outcome}"`);
    }
  }
  return out;
}

/** The history as readable lines, for a counterexample report. */
export function describeHistory(rec: ExecutionRecord): string {
  const names: Record<number, string> = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k]));
  return rec.history
    .map((e, i) => {
      const parts = [String(i).padStart(3), names[e.EventType] ?? String(e.EventType)];
      if (e.EventType === EventType.OrchestratorStarted) parts.push(e.Timestamp);
      if (e.EventId >= 0) parts.push(`#${e.EventId}`);
      if (e.Name !== undefined) parts.push(String(e.Name));
      if (e.TaskScheduledId !== undefined) parts.push(`of #${String(e.TaskScheduledId)}`);
      if (e.TimerId !== undefined) parts.push(`of #${String(e.TimerId)}`);
      if (e.FireAt !== undefined && e.EventType === EventType.TimerCreated) parts.push(String(e.FireAt));
      const data = e.Input ?? e.Result;
      if (typeof data === "string") parts.push(data.length > 160 ? `${data.slice(0, 160)}…` : data);
      if (rec.gatherTriggers.includes(i)) parts.push("  <- schedules gatherAndPlan");
      if (rec.continueAt === i) parts.push("  <- continues as new");
      return parts.join(" ");
    })
    .join("\n");
}

/** Which situations a simulation went through: to see that the generators reach what matters. */
export function situations(result: SimulationResult): Set<string> {
  const seen = new Set<string>();
  result.executions.forEach((rec, index) => {
    const scheduled = (name: string) =>
      rec.history.filter((e) => e.EventType === EventType.TaskScheduled && e.Name === name);
    const gathers = scheduled("gatherAndPlan");
    if (index > 0) seen.add("continued as new");
    if (rec.input.pending.length === 0 && (rec.input.pendingCount ?? 0) === 0) seen.add("idle start");
    if (scheduled("requestApproval").length > 0) seen.add("approval requested");
    if (gathers.length > 1) seen.add("re-plan while awaiting approval");
    const replan = rec.gatherTriggers[1];
    if (replan !== undefined) {
      const done = completionOf(rec, gathers[1]!.EventId);
      const during = rec.history.some(
        (e, i) =>
          i > replan && i < (done?.position ?? rec.history.length) && e.EventType === EventType.EventRaised,
      );
      if (during) seen.add("event during a re-plan");
    }
    for (const v of scheduled("verifyDecision")) {
      const done = completionOf(rec, v.EventId);
      if (done !== undefined) seen.add(`proof verified ${String(done.result)}`);
    }
    for (const e of rec.episodes)
      if (e.customStatus?.decided) seen.add(`decided ${e.customStatus.decided.decision}`);
    const outcome = rec.continueAsNew?.last?.outcome;
    if (outcome !== undefined && rec.continueAsNew?.last?.pass === rec.input.pass)
      seen.add(`pass ${outcome}`);
    if ((rec.continueAsNew?.pendingCount ?? 0) > 0) seen.add("reasons carried over");
    if (rec.carriedOut.length > 0) seen.add("events after continue-as-new");
    const raisedInputs = rec.history
      .filter((e) => e.EventType === EventType.EventRaised)
      .map((e) => String(e.Input));
    if (new Set(raisedInputs).size < raisedInputs.length) seen.add("duplicate event");
    const completions = rec.history
      .filter((e) => e.EventType === EventType.TaskCompleted || e.EventType === EventType.TimerFired)
      .map((e) => `${e.EventType}/${String(e.TaskScheduledId ?? e.TimerId)}`);
    if (new Set(completions).size < completions.length) seen.add("duplicate delivery");
  });
  return seen;
}
