// A policy's reconciler as its readers may trust it: its Durable status, with the custom status of an
// instance that has ended made idle (an ended instance reads no more events, so nothing waits).
import type { DurableClient } from "durable-functions";
import type { ReconcilerStatus } from "../../orchestrations/reconciler";

/** An instance in these states reads no more events: whatever its custom status says, nothing waits. */
export const ENDED_RUNTIME_STATUSES: ReadonlySet<string> = new Set([
  "Completed",
  "Failed",
  "Terminated",
  "Canceled",
]);

/**
 * The custom status as it may be believed: an ended instance's last custom status may still offer
 * an approval (or show a phase) that no one will ever act on; it is idle, with no approval pending.
 */
export function settledStatus(
  runtimeStatus: string | undefined,
  customStatus: unknown,
): ReconcilerStatus | undefined {
  const status = customStatus as ReconcilerStatus | undefined | null;
  if (status === undefined || status === null) return undefined;
  if (!ENDED_RUNTIME_STATUSES.has(String(runtimeStatus))) return status;
  const { pendingApproval: _gone, ...rest } = status;
  return { ...rest, phase: "idle" };
}

export type ReconcilerState =
  | {
      kind: "found";
      runtimeStatus: string;
      lastUpdated?: string;
      /** Undefined while the instance has set none yet. */
      status?: ReconcilerStatus;
    }
  /** No instance: no event, sweep or reconcile has reached this policy yet. */
  | { kind: "not-started" }
  /** The Durable status could not be read (storage, the extension): why. */
  | { kind: "unreadable"; error: string };

/** The Durable client answers a missing instance with an error naming HTTP 404. */
const NOT_FOUND = /\b404\b/;

/** The reconciler instance's state, read once (never throws). */
export async function reconcilerState(client: DurableClient, instanceId: string): Promise<ReconcilerState> {
  try {
    const state = await client.getStatus(instanceId);
    const runtimeStatus = String(state.runtimeStatus);
    const status = settledStatus(runtimeStatus, state.customStatus);
    const updated = new Date(state.lastUpdatedTime ?? Number.NaN);
    return {
      kind: "found",
      runtimeStatus,
      ...(Number.isNaN(updated.getTime()) ? {} : { lastUpdated: updated.toISOString() }),
      ...(status ? { status } : {}),
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return NOT_FOUND.test(message) ? { kind: "not-started" } : { kind: "unreadable", error: message };
  }
}

/**
 * Just the custom status, settled; undefined when there is none or it cannot be read. A drop-in for
 * the approval endpoint's own statusOf.
 */
export async function statusOf(
  client: DurableClient,
  instanceId: string,
): Promise<ReconcilerStatus | undefined> {
  const state = await reconcilerState(client, instanceId);
  return state.kind === "found" ? state.status : undefined;
}
