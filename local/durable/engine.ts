// A Durable Functions backend on one machine: orchestration instances with their histories, driven
// through the app's real orchestrator functions (durable-functions' own replay code) and activity
// functions, with durable timers, external events, continue-as-new and persistence under a state
// directory.
//
// Model (the Durable Task Framework's, reduced to one process): each instance has an inbox of
// messages (ExecutionStarted, TaskCompleted/TaskFailed, TimerFired, EventRaised, Terminate). An
// orchestrator *episode* takes every message in the inbox, appends OrchestratorStarted plus one event
// per message to the history, calls the orchestrator with the whole history (earlier events marked
// IsPlayed), replays the returned actions to find the new work (./replay.ts), and appends
// TaskScheduled/TimerCreated, OrchestratorCompleted and, when done, ExecutionCompleted. Activities
// and due timers feed the inbox again. One worker loop does all of it, one work item at a time,
// oldest first; `idle()` resolves when nothing is runnable right now (timers in the future do not
// count). Every change is persisted before the next work item, so a restarted engine neither loses a
// wait nor runs a completed activity again.
//
// Where an app depends on it, the engine behaves like the Durable extension on Azure Storage rather
// than like an ideal engine (`DurableBehaviourOptions`, ./README.md): a custom status over 16 KB fails
// the instance, it advertises replay schema V4 with Azure Storage's timer limits (long timers are
// split by the extension's loop, ./replay.ts); as options, two simultaneous starts of one instance
// id both succeed and the later one's input is dropped, activities run twice (at least once), and
// the messages of one episode are reordered.
import { randomUUID } from "node:crypto";
import { errorMessage, type HostLogger, hostNotice } from "../functions-host/logger";
import { EventType, type HistoryEvent, history, historyForStatus, OrchestrationStatus } from "./history";
import {
  AZURE_STORAGE_MAXIMUM_TIMER_MS,
  AZURE_STORAGE_TIMER_INTERVAL_MS,
  ReplaySchema,
  replayActions,
} from "./replay";
import {
  type ActivityWork,
  type InboxMessage,
  type InstanceRecord,
  InstanceStore,
  isRunning,
  type RuntimeStatus,
} from "./store";

export type OrchestratorOutcome = { ok: true; state: unknown } | { ok: false; message: string };
export type ActivityOutcome =
  | { ok: true; result: string | null }
  | { ok: false; message: string; details: string | null };

/** How the engine reaches the app's durable functions (the functions host provides it). */
export interface DurableFunctionRunner {
  /** The registered orchestrator's name for `name` (function names are case-insensitive), if any. */
  resolveOrchestrator(name: string): string | undefined;
  resolveActivity(name: string): string | undefined;
  runOrchestrator(
    name: string,
    trigger: Record<string, unknown>,
    meta: { instanceId: string; isReplay: boolean },
  ): Promise<OrchestratorOutcome>;
  runActivity(name: string, input: unknown, meta: { instanceId: string }): Promise<ActivityOutcome>;
}

/**
 * How closely the engine follows the Durable extension on Azure Storage (./README.md). The defaults
 * are the extension's behaviour; the options make it stricter still (at-least-once activities,
 * reordered batches) or, for experiments, more lenient.
 */
export interface DurableBehaviourOptions {
  /**
   * Custom status limit: the extension serialises the status to JSON and fails the orchestration
   * when its UTF-16 size in whole KB (bytes / 1024, truncated) exceeds this. Default 16; null: none.
   */
  customStatusLimitKB?: number | null;
  /**
   * The replay schema the engine advertises to durable-functions: "V4" (default) is what current
   * extensions advertise (`upperSchemaVersion` V2 plus `upperSchemaVersionNew` V4); "V3" behaves the
   * same here (long timers split by the SDK and the extension); "V2" fails timers over the maximum.
   */
  replaySchema?: "V2" | "V3" | "V4";
  /** The provider's maximum timer length (`maximumShortTimerDuration`), ms. Default 6 days. */
  maximumShortTimerMs?: number;
  /** The length of a long timer's parts (`longRunningTimerIntervalDuration`), ms. Default 3 days. */
  longRunningTimerIntervalMs?: number;
  /**
   * Starts through the HTTP API (what DurableClient.startNew calls): "racy" is Azure Storage's
   * behaviour: the start checks for a running instance, then writes `startRaceWindowMs` later, so two
   * starts of one instance id at the same time both succeed and the later one's input is dropped;
   * "atomic" checks and writes at once, so the later start gets 409. "racy" is the default: the app
   * sends every reason as an event, never in a start's input, so a dropped start loses nothing.
   */
  starts?: "racy" | "atomic";
  /** The time between a racy start's check and its write (the storage round trips). Default 50 ms. */
  startRaceWindowMs?: number;
  /**
   * "once" (default); "rerun": every activity runs a second time and only the second outcome reaches
   * the orchestrator (a worker lost the first before sending it); "duplicate": every activity runs a
   * second time and both outcomes reach it (a lock expired after the first was sent).
   */
  activityDelivery?: "once" | "rerun" | "duplicate";
  /**
   * The order of the messages one episode takes (ExecutionStarted always first): "arrival"
   * (default), "reverse", or "shuffle" (seeded by `batchOrderSeed`, default 1).
   */
  batchOrder?: "arrival" | "reverse" | "shuffle";
  batchOrderSeed?: number;
}

export type DurableBehaviour = Required<DurableBehaviourOptions>;

export const DEFAULT_BEHAVIOUR: DurableBehaviour = {
  customStatusLimitKB: 16,
  replaySchema: "V4",
  maximumShortTimerMs: AZURE_STORAGE_MAXIMUM_TIMER_MS,
  longRunningTimerIntervalMs: AZURE_STORAGE_TIMER_INTERVAL_MS,
  starts: "racy",
  startRaceWindowMs: 50,
  activityDelivery: "once",
  batchOrder: "arrival",
  batchOrderSeed: 1,
};

/** The options with their defaults, checked. */
export function durableBehaviour(options: DurableBehaviourOptions = {}): DurableBehaviour {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const behaviour = { ...DEFAULT_BEHAVIOUR, ...defined } as DurableBehaviour;
  const oneOf = (name: keyof DurableBehaviour, allowed: readonly unknown[]) => {
    if (!allowed.includes(behaviour[name])) {
      throw new RangeError(
        `Durable engine option ${name} must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")} (got ${JSON.stringify(behaviour[name])}).`,
      );
    }
  };
  oneOf("replaySchema", ["V2", "V3", "V4"]);
  oneOf("starts", ["racy", "atomic"]);
  oneOf("activityDelivery", ["once", "rerun", "duplicate"]);
  oneOf("batchOrder", ["arrival", "reverse", "shuffle"]);
  if (!Number.isInteger(behaviour.batchOrderSeed)) {
    throw new RangeError("Durable engine option batchOrderSeed must be an integer.");
  }
  const positive = (name: keyof DurableBehaviour, value: number) => {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`Durable engine option ${name} must be a positive number (got ${value}).`);
    }
  };
  positive("maximumShortTimerMs", behaviour.maximumShortTimerMs);
  positive("longRunningTimerIntervalMs", behaviour.longRunningTimerIntervalMs);
  if (behaviour.longRunningTimerIntervalMs > behaviour.maximumShortTimerMs) {
    throw new RangeError(
      "Durable engine option longRunningTimerIntervalMs must not exceed maximumShortTimerMs.",
    );
  }
  if (behaviour.customStatusLimitKB !== null) positive("customStatusLimitKB", behaviour.customStatusLimitKB);
  if (!Number.isFinite(behaviour.startRaceWindowMs) || behaviour.startRaceWindowMs < 0) {
    throw new RangeError("Durable engine option startRaceWindowMs must be a number of milliseconds >= 0.");
  }
  return behaviour;
}

export interface DurableEngineOptions {
  stateDir: string;
  runner: DurableFunctionRunner;
  logger: HostLogger;
  behaviour?: DurableBehaviourOptions;
}

/**
 * What the extension advertises in `upperSchemaVersion` (durable-functions' ReplaySchema.V2 = 1);
 * schemas above V2 go in `upperSchemaVersionNew` (see `DurableBehaviourOptions.replaySchema`).
 */
export const UPPER_SCHEMA_VERSION = ReplaySchema.V2;

/** A .NET TimeSpan in its "c" format ([d.]hh:mm:ss[.fffffff]), as the extension serialises them. */
export function timeSpanText(ms: number): string {
  const whole = Math.floor(ms);
  const days = Math.floor(whole / 86_400_000);
  const pad = (n: number) => String(n).padStart(2, "0");
  const hours = Math.floor(whole / 3_600_000) % 24;
  const minutes = Math.floor(whole / 60_000) % 60;
  const seconds = Math.floor(whole / 1000) % 60;
  const fraction = whole % 1000;
  return (
    `${days > 0 ? `${days}.` : ""}${pad(hours)}:${pad(minutes)}:${pad(seconds)}` +
    (fraction > 0 ? `.${String(fraction).padStart(3, "0")}0000` : "")
  );
}

/**
 * The extension's check of a custom status (MessagePayloadDataConverter.Serialize with a limit): the
 * error message when its JSON text is too large, else undefined. A JavaScript string's length is its
 * UTF-16 code units, 2 bytes each (Encoding.Unicode).
 */
export function customStatusTooLarge(jsonText: string, limitKB: number | null): string | undefined {
  if (limitKB === null) return undefined;
  const sizeKB = Math.floor((jsonText.length * 2) / 1024);
  if (sizeKB <= limitKB) return undefined;
  return `The UTF-16 size of the JSON-serialized payload must not exceed ${limitKB.toLocaleString("en-US")} KB. The current payload size is ${sizeKB.toLocaleString("en-US")} KB.`;
}

/** A small seeded generator (mulberry32) for reproducible shuffles. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const OUT_OF_PROC_DATA_LABEL = "\n\n$OutOfProcData$:";

export type StartResult =
  | { kind: "started"; instanceId: string }
  | { kind: "badRequest"; message: string }
  | { kind: "conflict"; message: string };

export type InstanceOperationResult = "accepted" | "notFound" | "gone";

export interface StatusOptions {
  showHistory?: boolean;
  showHistoryOutput?: boolean;
  showInput?: boolean;
}

/** The extension's status payload (StatusResponsePayload). */
export interface StatusPayload {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: unknown[];
}

export interface InstanceQuery {
  runtimeStatus?: readonly RuntimeStatus[];
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
  instanceIdPrefix?: string;
  showInput?: boolean;
}

/** The task hub's JSON text of a value, as it reads back: JSON if it parses, else the raw text. */
export function parseStored(value: string | null): unknown {
  if (value === null) return null;
  const trimmed = value.trim();
  if (trimmed === "") return "";
  try {
    return JSON.parse(trimmed);
  } catch {
    return value;
  }
}

/** durable-functions pre-encodes string inputs as JSON (Utils.processInput); undo that once. */
function decodeActionInput(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function toJsonText(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function statusTime(iso: string): string {
  return iso.replace(/\.\d+Z$/, "Z");
}

export function invalidInstanceId(instanceId: string): string | undefined {
  if (instanceId.length === 0 || instanceId.trim().length === 0) return "Instance ID must not be empty.";
  if (instanceId.length > 256) return "Instance ID must not be longer than 256 characters.";
  if (instanceId.startsWith("@"))
    return `Instance ID '${instanceId}' must not start with '@' (reserved for entities).`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[/\\?#\u0000-\u001f\u007f-\u009f]/.test(instanceId)) {
    return `Instance ID '${instanceId}' contains invalid characters: it must not contain '/', '\\', '?', '#' or control characters.`;
  }
  return undefined;
}

export class DurableEngine {
  readonly #store: InstanceStore;
  readonly #runner: DurableFunctionRunner;
  readonly #logger: HostLogger;
  readonly #instances = new Map<string, InstanceRecord>();
  #seq = 0;
  #loop: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closing = false;
  #started = false;
  #idleWaiters: (() => void)[] = [];
  #changeWaiters: (() => void)[] = [];
  readonly #behaviour: DurableBehaviour;
  readonly #random: () => number;
  /** Racy starts between their check and their write (close() waits for them). */
  readonly #startsInFlight = new Set<Promise<unknown>>();

  constructor(options: DurableEngineOptions) {
    this.#behaviour = durableBehaviour(options.behaviour);
    this.#store = new InstanceStore(options.stateDir);
    this.#runner = options.runner;
    this.#logger = options.logger;
    this.#random = seededRandom(this.#behaviour.batchOrderSeed);
  }

  /** The behaviour in effect (the options with their defaults). */
  get behaviour(): DurableBehaviour {
    return { ...this.#behaviour };
  }

  /** Loads the persisted task hub and starts working through it. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const record of this.#store.loadAll()) {
      this.#instances.set(record.instanceId, record);
      for (const message of record.inbox) this.#seq = Math.max(this.#seq, message.seq);
      for (const work of record.activities) this.#seq = Math.max(this.#seq, work.seq);
    }
    if (this.#instances.size > 0) {
      hostNotice(this.#logger, "information", "Durable task hub loaded", { instances: this.#instances.size });
    }
    this.#wake();
  }

  /** Stops after the work item in progress and writes everything down. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#startsInFlight]);
    this.#closing = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#loop;
    await this.#store.flush();
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
    for (const resolve of this.#changeWaiters.splice(0)) resolve();
  }

  // ---- client operations (the Durable extension's HTTP API and DurableClient use these) ----

  /** Starts an instance, checking for a running one and writing at once (atomic). */
  startNew(functionName: string, instanceId: string | undefined, input: string | null): StartResult {
    const checked = this.#checkStart(functionName, instanceId);
    if (checked.kind !== "ok") return checked;
    return this.#writeStart(checked.name, checked.id, input);
  }

  /**
   * Starts an instance as the extension does on Azure Storage (CreateTaskOrchestrationAsync): read
   * the instance's status, refuse (409) if it is running, then send the start message and write the
   * status, which takes `startRaceWindowMs`. A start that another start overtook in that window
   * still "succeeds", but its ExecutionStarted message is discarded as a duplicate (its input never
   * reaches the orchestrator). With `starts: "atomic"`, as `startNew`.
   */
  async startNewAsync(
    functionName: string,
    instanceId: string | undefined,
    input: string | null,
  ): Promise<StartResult> {
    if (this.#behaviour.starts === "atomic") return this.startNew(functionName, instanceId, input);
    const checked = this.#checkStart(functionName, instanceId);
    if (checked.kind !== "ok") return checked;
    const seen = this.#instances.get(checked.id);
    const wait = new Promise<void>((resolve) => setTimeout(resolve, this.#behaviour.startRaceWindowMs));
    this.#startsInFlight.add(wait);
    try {
      await wait;
    } finally {
      this.#startsInFlight.delete(wait);
    }
    const now = this.#instances.get(checked.id);
    if (now !== undefined && now !== seen && isRunning(now.runtimeStatus)) {
      hostNotice(this.#logger, "warning", "Durable start dropped: the instance was started concurrently", {
        instanceId: checked.id,
        functionName: checked.name,
        runtimeStatus: now.runtimeStatus,
      });
      return { kind: "started", instanceId: checked.id };
    }
    return this.#writeStart(checked.name, checked.id, input);
  }

  #checkStart(
    functionName: string,
    instanceId: string | undefined,
  ): { kind: "ok"; name: string; id: string } | Exclude<StartResult, { kind: "started" }> {
    const name = this.#runner.resolveOrchestrator(functionName);
    if (name === undefined) {
      return {
        kind: "badRequest",
        message: `The function '${functionName}' doesn't exist, is disabled, or is not an orchestrator function.`,
      };
    }
    const id = instanceId === undefined || instanceId === "" ? randomUUID().replaceAll("-", "") : instanceId;
    const invalid = invalidInstanceId(id);
    if (invalid !== undefined) return { kind: "badRequest", message: invalid };
    const existing = this.#instances.get(id);
    if (existing !== undefined && isRunning(existing.runtimeStatus)) {
      return {
        kind: "conflict",
        message: `An Orchestration instance with the status ${existing.runtimeStatus} already exists.`,
      };
    }
    return { kind: "ok", name, id };
  }

  #writeStart(name: string, id: string, input: string | null): StartResult {
    const existing = this.#instances.get(id);
    if (existing !== undefined && isRunning(existing.runtimeStatus)) {
      return {
        kind: "conflict",
        message: `An Orchestration instance with the status ${existing.runtimeStatus} already exists.`,
      };
    }
    const now = new Date().toISOString();
    const executionId = randomUUID().replaceAll("-", "");
    const record: InstanceRecord = {
      instanceId: id,
      name,
      executionId,
      runtimeStatus: "Pending",
      createdTime: now,
      lastUpdatedTime: now,
      input,
      output: null,
      customStatus: null,
      history: [],
      inbox: [{ seq: ++this.#seq, type: "ExecutionStarted", executionId, input }],
      // Activities an earlier incarnation scheduled still run (their results are dropped), as queued
      // work items would in the real backend.
      activities: existing?.activities ?? [],
      timers: [],
    };
    this.#instances.set(id, record);
    this.#save(record);
    return { kind: "started", instanceId: id };
  }

  raiseEvent(instanceId: string, eventName: string, input: string | null): InstanceOperationResult {
    const record = this.#instances.get(instanceId);
    if (record === undefined) return "notFound";
    if (!isRunning(record.runtimeStatus)) return "gone";
    record.inbox.push({ seq: ++this.#seq, type: "EventRaised", name: eventName, input });
    this.#save(record);
    return "accepted";
  }

  terminate(instanceId: string, reason: string | null): InstanceOperationResult {
    const record = this.#instances.get(instanceId);
    if (record === undefined) return "notFound";
    if (!isRunning(record.runtimeStatus)) return "gone";
    record.inbox.push({ seq: ++this.#seq, type: "Terminate", reason });
    this.#save(record);
    return "accepted";
  }

  purge(instanceId: string): "purged" | "notFound" | { notTerminal: RuntimeStatus } {
    const record = this.#instances.get(instanceId);
    if (record === undefined) return "notFound";
    if (isRunning(record.runtimeStatus)) return { notTerminal: record.runtimeStatus };
    this.#instances.delete(instanceId);
    this.#store.remove(instanceId);
    return "purged";
  }

  purgeWhere(query: InstanceQuery): number {
    let deleted = 0;
    for (const record of this.#query(query)) {
      if (isRunning(record.runtimeStatus)) continue;
      this.#instances.delete(record.instanceId);
      this.#store.remove(record.instanceId);
      deleted++;
    }
    return deleted;
  }

  getStatus(instanceId: string, options: StatusOptions = {}): StatusPayload | undefined {
    const record = this.#instances.get(instanceId);
    return record === undefined ? undefined : this.#status(record, options);
  }

  listInstances(query: InstanceQuery): StatusPayload[] {
    return this.#query(query).map((record) => this.#status(record, { showInput: query.showInput ?? true }));
  }

  /** The stored record (a copy), for tests and diagnostics. */
  instance(instanceId: string): InstanceRecord | undefined {
    const record = this.#instances.get(instanceId);
    return record === undefined ? undefined : structuredClone(record);
  }

  /** True when nothing is runnable right now (timers in the future do not count). */
  isIdle(): boolean {
    return this.#isIdle();
  }

  /** Resolves when nothing is runnable right now: no inbox to process, no activity, no due timer. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Resolves with the status once the instance is in one of `statuses`; rejects after `timeoutMs`. */
  async waitForStatus(
    instanceId: string,
    statuses: readonly RuntimeStatus[],
    timeoutMs = 10_000,
  ): Promise<StatusPayload> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = this.getStatus(instanceId);
      if (status !== undefined && statuses.includes(status.runtimeStatus)) return status;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.#closing) {
        throw new Error(
          `Instance '${instanceId}' did not reach ${statuses.join("/")} within ${timeoutMs} ms ` +
            `(it is ${status?.runtimeStatus ?? "unknown"}).`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 1000));
        this.#changeWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  // ---- the worker loop ----

  #save(record: InstanceRecord): void {
    record.lastUpdatedTime = new Date().toISOString();
    this.#store.save(record);
    for (const resolve of this.#changeWaiters.splice(0)) resolve();
    this.#wake();
  }

  #wake(): void {
    if (!this.#started || this.#closing || this.#loop !== undefined) return;
    // The loop starts on a later turn: work found while a client call or another work item is still
    // changing state must not start a second loop from inside it.
    const loop = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#run())
      .catch((error: unknown) => {
        hostNotice(this.#logger, "error", "Durable engine loop failed", { error: errorMessage(error) });
      })
      .finally(() => {
        this.#loop = undefined;
        if (this.#closing) return;
        if (this.#hasRunnableWork()) this.#wake();
        else {
          this.#armTimer();
          for (const resolve of this.#idleWaiters.splice(0)) resolve();
        }
      });
    this.#loop = loop;
  }

  #isIdle(): boolean {
    return this.#loop === undefined && !this.#hasRunnableWork();
  }

  #hasRunnableWork(): boolean {
    const now = Date.now();
    for (const record of this.#instances.values()) {
      if (record.inbox.length > 0 || record.activities.length > 0) return true;
      if (record.timers.some((timer) => Date.parse(timer.fireAt) <= now)) return true;
    }
    return false;
  }

  #armTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    let earliest = Number.POSITIVE_INFINITY;
    for (const record of this.#instances.values()) {
      for (const timer of record.timers) earliest = Math.min(earliest, Date.parse(timer.fireAt));
    }
    if (earliest === Number.POSITIVE_INFINITY) return;
    const delay = Math.min(Math.max(earliest - Date.now(), 0), 2_147_483_647);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#wake();
    }, delay);
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    while (!this.#closing) {
      this.#fireDueTimers();
      const next = this.#nextWork();
      if (next === undefined) return;
      try {
        if (next.kind === "episode") await this.#runEpisode(next.record);
        else await this.#runActivity(next.record, next.work);
      } catch (error) {
        // A fault of the engine itself (not of the app's code): report it and keep the loop alive.
        hostNotice(this.#logger, "error", "Durable engine work item failed", {
          instanceId: next.record.instanceId,
          error: errorMessage(error),
        });
        if (next.kind === "episode") next.record.inbox = [];
        else next.record.activities = next.record.activities.filter((w) => w !== next.work);
        this.#save(next.record);
      }
    }
  }

  #fireDueTimers(): void {
    const now = Date.now();
    for (const record of this.#instances.values()) {
      const due = record.timers.filter((timer) => Date.parse(timer.fireAt) <= now);
      if (due.length === 0) continue;
      record.timers = record.timers.filter((timer) => !due.includes(timer));
      for (const timer of due.sort((a, b) => Date.parse(a.fireAt) - Date.parse(b.fireAt))) {
        if (timer.executionId !== record.executionId || !isRunning(record.runtimeStatus)) continue;
        record.inbox.push({
          seq: ++this.#seq,
          type: "TimerFired",
          executionId: timer.executionId,
          timerId: timer.timerId,
          fireAt: timer.fireAt,
        });
      }
      this.#save(record);
    }
  }

  #nextWork():
    | { kind: "episode"; record: InstanceRecord }
    | { kind: "activity"; record: InstanceRecord; work: ActivityWork }
    | undefined {
    let best:
      | { seq: number; kind: "episode"; record: InstanceRecord }
      | { seq: number; kind: "activity"; record: InstanceRecord; work: ActivityWork }
      | undefined;
    for (const record of this.#instances.values()) {
      const first = record.inbox[0];
      if (first !== undefined) {
        const seq = Math.min(...record.inbox.map((m) => m.seq));
        if (best === undefined || seq < best.seq) best = { seq, kind: "episode", record };
      }
      for (const work of record.activities) {
        if (best === undefined || work.seq < best.seq)
          best = { seq: work.seq, kind: "activity", record, work };
      }
    }
    return best;
  }

  async #runActivity(record: InstanceRecord, work: ActivityWork): Promise<void> {
    let input: unknown;
    if (work.input !== null) input = JSON.parse(work.input);
    const outcome = await this.#runner.runActivity(work.name, input, { instanceId: record.instanceId });
    record.activities = record.activities.filter((w) => w !== work);
    const current = this.#instances.get(record.instanceId);
    // At least once: the work item comes back once (queued behind what is already waiting). With
    // "rerun" the first outcome is lost, with "duplicate" both are delivered.
    const delivery = this.#behaviour.activityDelivery;
    const redeliver = delivery !== "once" && work.redelivered !== true;
    if (redeliver && current === record) {
      record.activities.push({ ...work, seq: ++this.#seq, redelivered: true });
    }
    const deliver = !(redeliver && delivery === "rerun");
    if (
      deliver &&
      current === record &&
      record.executionId === work.executionId &&
      isRunning(record.runtimeStatus)
    ) {
      record.inbox.push(
        outcome.ok
          ? {
              seq: ++this.#seq,
              type: "TaskCompleted",
              executionId: work.executionId,
              taskScheduledId: work.taskScheduledId,
              result: outcome.result,
            }
          : {
              seq: ++this.#seq,
              type: "TaskFailed",
              executionId: work.executionId,
              taskScheduledId: work.taskScheduledId,
              reason: `Activity function '${work.name}' failed: ${outcome.message}`,
              details: outcome.details,
            },
      );
    }
    if (current === record) this.#save(record);
  }

  /** The messages of one episode in the order the orchestrator sees them (`batchOrder`). */
  #ordered(messages: readonly InboxMessage[]): InboxMessage[] {
    const order = this.#behaviour.batchOrder;
    if (order === "arrival") return [...messages];
    const reordered: InboxMessage[] = messages.filter((m) => m.type !== "ExecutionStarted");
    if (order === "reverse") reordered.reverse();
    else {
      for (let i = reordered.length - 1; i > 0; i--) {
        const j = Math.floor(this.#random() * (i + 1));
        const swap = reordered[i] as InboxMessage;
        reordered[i] = reordered[j] as InboxMessage;
        reordered[j] = swap;
      }
    }
    return [...messages.filter((m) => m.type === "ExecutionStarted"), ...reordered];
  }

  async #runEpisode(record: InstanceRecord): Promise<void> {
    const messages = this.#ordered(record.inbox);
    const consumed = new Set(messages.map((m) => m.seq));
    const dropConsumed = () => {
      record.inbox = record.inbox.filter((m) => !consumed.has(m.seq));
    };
    if (!isRunning(record.runtimeStatus)) {
      dropConsumed();
      this.#save(record);
      return;
    }
    const now = new Date();
    const terminate = messages.find((m) => m.type === "Terminate");
    if (terminate !== undefined && terminate.type === "Terminate") {
      record.history.push(
        history.orchestratorStarted(now),
        history.executionTerminated(now, terminate.reason),
        history.executionCompleted(now, OrchestrationStatus.Terminated, terminate.reason),
        history.orchestratorCompleted(now),
      );
      record.runtimeStatus = "Terminated";
      record.output = terminate.reason;
      record.timers = [];
      dropConsumed();
      this.#save(record);
      return;
    }

    const fresh = this.#eventsFor(record, messages, now);
    if (fresh.length === 0) {
      dropConsumed();
      this.#save(record);
      return;
    }
    if (record.runtimeStatus !== "Running") record.runtimeStatus = "Running";
    const newEvents = [history.orchestratorStarted(now), ...fresh];
    const past = record.history.map((event) => ({ ...event, IsPlayed: true }));
    const fullHistory = [...past, ...newEvents];
    const schema = ReplaySchema[this.#behaviour.replaySchema];
    const trigger: Record<string, unknown> = {
      history: fullHistory,
      input: parseStored(record.input),
      instanceId: record.instanceId,
      isReplaying: past.length > 0,
      parentInstanceId: null,
      // As the extension (OrchestrationTriggerAttributeBindingProvider): V2 for old SDKs, the schema
      // it supports in `upperSchemaVersionNew`, which durable-functions prefers.
      upperSchemaVersion: UPPER_SCHEMA_VERSION,
      ...(schema > UPPER_SCHEMA_VERSION ? { upperSchemaVersionNew: schema } : {}),
      // Used by durable-functions from schema V3 on (long timers, callHttp polling).
      longRunningTimerIntervalDuration: timeSpanText(this.#behaviour.longRunningTimerIntervalMs),
      maximumShortTimerDuration: timeSpanText(this.#behaviour.maximumShortTimerMs),
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    };
    const outcome = await this.#runner.runOrchestrator(record.name, trigger, {
      instanceId: record.instanceId,
      isReplay: past.length > 0,
    });
    if (this.#instances.get(record.instanceId) !== record) return; // purged or replaced meanwhile

    let state: Record<string, unknown> | undefined;
    let failure: string | undefined;
    if (outcome.ok) {
      state = (outcome.state ?? undefined) as Record<string, unknown> | undefined;
      if (state === undefined || typeof state !== "object") {
        failure = `Orchestrator function '${record.name}' failed: it returned no orchestrator state (is it registered with df.app.orchestration?).`;
      }
    } else {
      const labelAt = outcome.message.indexOf(OUT_OF_PROC_DATA_LABEL);
      const friendly = labelAt >= 0 ? outcome.message.slice(0, labelAt) : outcome.message;
      if (labelAt >= 0) {
        try {
          state = JSON.parse(outcome.message.slice(labelAt + OUT_OF_PROC_DATA_LABEL.length)) as Record<
            string,
            unknown
          >;
        } catch {
          state = undefined;
        }
      }
      // durable-functions puts the real error in the state it appends (its message prefix is not
      // always the error: OrchestrationFailureError is given a boolean); the extension reads `error`.
      const reported = typeof state?.error === "string" ? state.error : friendly;
      failure = `Orchestrator function '${record.name}' failed: ${reported}`;
    }

    record.history.push(...newEvents);
    // The extension sets the custom status before it replays the actions or reports the
    // orchestrator's own error: a status over the limit fails the orchestration with that message,
    // none of the episode's actions is scheduled, and the status keeps its previous value.
    let statusFailure: string | undefined;
    if (state !== undefined && state.customStatus !== undefined && state.customStatus !== null) {
      const text = JSON.stringify(state.customStatus);
      const tooLarge = customStatusTooLarge(text, this.#behaviour.customStatusLimitKB);
      if (tooLarge === undefined) record.customStatus = text;
      else statusFailure = `Orchestrator function '${record.name}' failed: ${tooLarge}`;
    }
    const replay =
      state === undefined || statusFailure !== undefined
        ? { activities: [], timers: [] }
        : replayActions(fullHistory, state.actions, {
            resolveActivity: (name) => this.#runner.resolveActivity(name),
            schemaVersion: typeof state.schemaVersion === "number" ? state.schemaVersion : ReplaySchema.V2,
            maximumShortTimerMs: this.#behaviour.maximumShortTimerMs,
            longRunningTimerIntervalMs: this.#behaviour.longRunningTimerIntervalMs,
          });
    if (statusFailure !== undefined) failure = statusFailure;
    else failure ??= replay.failure;

    if (failure !== undefined) {
      record.history.push(
        history.executionCompleted(now, OrchestrationStatus.Failed, failure),
        history.orchestratorCompleted(now),
      );
      record.runtimeStatus = "Failed";
      record.output = failure;
      record.timers = [];
      dropConsumed();
      this.#save(record);
      return;
    }

    if (state?.isDone === true) {
      if (replay.continueAsNew !== undefined) {
        this.#continueAsNew(record, now, toJsonText(decodeActionInput(replay.continueAsNew.input)), consumed);
        return;
      }
      const output = toJsonText(state.output);
      record.history.push(
        history.executionCompleted(now, OrchestrationStatus.Completed, output),
        history.orchestratorCompleted(now),
      );
      record.runtimeStatus = "Completed";
      record.output = output;
      record.timers = [];
      dropConsumed();
      this.#save(record);
      return;
    }

    for (const activity of replay.activities) {
      const input = toJsonText(decodeActionInput(activity.input));
      record.history.push(history.taskScheduled(now, activity.id, activity.name, input));
      record.activities.push({
        seq: ++this.#seq,
        executionId: record.executionId,
        taskScheduledId: activity.id,
        name: activity.name,
        input,
      });
    }
    for (const timer of replay.timers) {
      record.history.push(history.timerCreated(now, timer.id, timer.fireAt));
      record.timers.push({ executionId: record.executionId, timerId: timer.id, fireAt: timer.fireAt });
    }
    record.history.push(history.orchestratorCompleted(now));
    dropConsumed();
    this.#save(record);
  }

  /** The history events an episode adds for these messages (ExecutionStarted first, stale ones out). */
  #eventsFor(record: InstanceRecord, messages: readonly InboxMessage[], now: Date): HistoryEvent[] {
    const events: HistoryEvent[] = [];
    for (const message of messages) {
      switch (message.type) {
        case "ExecutionStarted":
          if (message.executionId === record.executionId && record.history.length === 0) {
            events.unshift(
              history.executionStarted(
                now,
                record.instanceId,
                record.executionId,
                record.name,
                message.input,
              ),
            );
          }
          break;
        case "TaskCompleted":
          if (message.executionId === record.executionId) {
            events.push(history.taskCompleted(now, message.taskScheduledId, message.result));
          }
          break;
        case "TaskFailed":
          if (message.executionId === record.executionId) {
            events.push(history.taskFailed(now, message.taskScheduledId, message.reason, message.details));
          }
          break;
        case "TimerFired":
          if (message.executionId === record.executionId) {
            events.push(history.timerFired(now, message.timerId, message.fireAt));
          }
          break;
        case "EventRaised":
          events.push(history.eventRaised(now, message.name, message.input));
          break;
        case "Terminate":
          break;
      }
    }
    const started =
      record.history.some((e) => e.EventType === EventType.ExecutionStarted) ||
      events[0]?.EventType === EventType.ExecutionStarted;
    return started ? events : [];
  }

  /**
   * A new execution with the new input. Events already in the old execution's history and not yet
   * awaited are dropped (the extension's ContinueAsNew does not preserve unprocessed events); events
   * raised while the last episode ran were not in it, so they go to the new execution.
   */
  #continueAsNew(
    record: InstanceRecord,
    now: Date,
    input: string | null,
    consumed: ReadonlySet<number>,
  ): void {
    record.history.push(history.continueAsNew(now, input), history.orchestratorCompleted(now));
    const carried = record.inbox.filter(
      (m) => !consumed.has(m.seq) && (m.type === "EventRaised" || m.type === "Terminate"),
    );
    const executionId = randomUUID().replaceAll("-", "");
    record.executionId = executionId;
    record.input = input;
    record.output = null;
    record.history = [];
    record.timers = [];
    record.runtimeStatus = "ContinuedAsNew";
    record.inbox = [{ seq: ++this.#seq, type: "ExecutionStarted", executionId, input }, ...carried];
    this.#save(record);
  }

  #status(record: InstanceRecord, options: StatusOptions): StatusPayload {
    const showInput = options.showInput ?? true;
    const payload: StatusPayload = {
      name: record.name,
      instanceId: record.instanceId,
      runtimeStatus: record.runtimeStatus,
      input: showInput ? parseStored(record.input) : null,
      customStatus: parseStored(record.customStatus),
      output: parseStored(record.output),
      createdTime: statusTime(record.createdTime),
      lastUpdatedTime: statusTime(record.lastUpdatedTime),
    };
    if (options.showHistory === true && record.runtimeStatus !== "Pending") {
      payload.historyEvents = historyForStatus(record.history, options.showHistoryOutput === true, showInput);
    }
    return payload;
  }

  #query(query: InstanceQuery): InstanceRecord[] {
    return [...this.#instances.values()]
      .filter((record) => {
        if (query.runtimeStatus !== undefined && query.runtimeStatus.length > 0) {
          if (!query.runtimeStatus.includes(record.runtimeStatus)) return false;
        }
        const created = Date.parse(record.createdTime);
        if (query.createdTimeFrom !== undefined && created < query.createdTimeFrom.getTime()) return false;
        if (query.createdTimeTo !== undefined && created > query.createdTimeTo.getTime()) return false;
        if (query.instanceIdPrefix !== undefined && !record.instanceId.startsWith(query.instanceIdPrefix))
          return false;
        return true;
      })
      .sort((a, b) => a.createdTime.localeCompare(b.createdTime));
  }
}
