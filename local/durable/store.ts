// The task hub on disk: one JSON file per orchestration instance (its current execution's history,
// inbox of messages not yet seen by the orchestrator, scheduled activities and timers), written
// atomically (temporary file, then rename) and in order per instance, so a host that stops and
// starts again with the same state directory carries on where it stopped.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { privateDir, writePrivateFile } from "../functions-host/private-files";
import type { HistoryEvent } from "./history";

export type RuntimeStatus = "Pending" | "Running" | "ContinuedAsNew" | "Completed" | "Failed" | "Terminated";

export const RUNNING_STATUSES: readonly RuntimeStatus[] = ["Pending", "Running", "ContinuedAsNew"];

export function isRunning(status: RuntimeStatus): boolean {
  return RUNNING_STATUSES.includes(status);
}

/** A message for an instance that its next orchestrator episode will see as a history event. */
export type InboxMessage =
  | { seq: number; type: "ExecutionStarted"; executionId: string; input: string | null }
  | {
      seq: number;
      type: "TaskCompleted";
      executionId: string;
      taskScheduledId: number;
      result: string | null;
    }
  | {
      seq: number;
      type: "TaskFailed";
      executionId: string;
      taskScheduledId: number;
      reason: string;
      details: string | null;
    }
  | { seq: number; type: "TimerFired"; executionId: string; timerId: number; fireAt: string }
  | { seq: number; type: "EventRaised"; name: string; input: string | null }
  | { seq: number; type: "Terminate"; reason: string | null };

export interface ActivityWork {
  seq: number;
  executionId: string;
  taskScheduledId: number;
  name: string;
  /** JSON text of the activity's input, or null. */
  input: string | null;
  /** Set on the second delivery of a work item (DurableBehaviourOptions.activityDelivery). */
  redelivered?: boolean;
}

export interface TimerWork {
  executionId: string;
  timerId: number;
  fireAt: string;
}

export interface InstanceRecord {
  instanceId: string;
  name: string;
  executionId: string;
  runtimeStatus: RuntimeStatus;
  createdTime: string;
  lastUpdatedTime: string;
  /** Raw JSON text, as the task hub keeps them (output of a failed/terminated instance: plain text). */
  input: string | null;
  output: string | null;
  customStatus: string | null;
  history: HistoryEvent[];
  inbox: InboxMessage[];
  activities: ActivityWork[];
  timers: TimerWork[];
}

export class InstanceStore {
  readonly #directory: string;
  readonly #writes = new Map<string, Promise<void>>();

  constructor(stateDir: string) {
    // Instances hold orchestration inputs, outputs and raised events: directories 0700, files 0600.
    privateDir(path.join(stateDir, "durable"), true);
    this.#directory = path.join(stateDir, "durable", "instances");
    privateDir(this.#directory, true);
  }

  #file(instanceId: string): string {
    return path.join(this.#directory, `${createHash("sha256").update(instanceId).digest("hex")}.json`);
  }

  loadAll(): InstanceRecord[] {
    const records: InstanceRecord[] = [];
    for (const name of readdirSync(this.#directory)) {
      if (!name.endsWith(".json")) continue;
      records.push(JSON.parse(readFileSync(path.join(this.#directory, name), "utf8")) as InstanceRecord);
    }
    return records;
  }

  /** Queues a write of the record as it is now; writes of one instance land in call order. */
  save(record: InstanceRecord): void {
    const text = JSON.stringify(record);
    const file = this.#file(record.instanceId);
    this.#enqueue(record.instanceId, () => writePrivateFile(file, text));
  }

  remove(instanceId: string): void {
    const file = this.#file(instanceId);
    this.#enqueue(instanceId, () => rm(file, { force: true }));
  }

  #enqueue(instanceId: string, write: () => Promise<void>): void {
    const previous = this.#writes.get(instanceId) ?? Promise.resolve();
    const next = previous.then(write).catch((error: unknown) => {
      this.#failures.push(error);
    });
    this.#writes.set(instanceId, next);
    void next.then(() => {
      if (this.#writes.get(instanceId) === next) this.#writes.delete(instanceId);
    });
  }

  readonly #failures: unknown[] = [];

  /** Resolves when every queued write has landed; rejects with the first write that failed. */
  async flush(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all([...this.#writes.values()]);
    const failure = this.#failures.shift();
    if (failure !== undefined) throw failure;
  }
}
