// Hands a change over to a policy's reconciler: raise an event on the running instance, or start it.
import type { DurableClient } from "durable-functions";
import { type IndexView, isEgressIndex } from "../topology";
import { instanceIdFor } from "./instance-id";
import {
  type ChangeReason,
  EVENT_CHANGED,
  RECONCILER,
  type ReconcilerInput,
  type ReconcilerStatus,
} from "./reconciler";
import { reconcilerSettingsFrom } from "./reconciler-settings";
import { appSettings } from "./settings";

const ALIVE = new Set(["Running", "Pending", "ContinuedAsNew"]);

async function statusOf(client: DurableClient, instanceId: string) {
  try {
    return await client.getStatus(instanceId, { showInput: true });
  } catch {
    // durable-functions 3 throws for an instance that does not exist.
    return undefined;
  }
}

export async function signalPolicy(
  client: DurableClient,
  policyId: string,
  reason: ChangeReason,
): Promise<"raised" | "started"> {
  const instanceId = instanceIdFor(policyId);
  const status = await statusOf(client, instanceId);
  if (status !== undefined && ALIVE.has(String(status.runtimeStatus))) {
    await client.raiseEvent(instanceId, EVENT_CHANGED, reason);
    return "raised";
  }
  // The settings travel in the input: the orchestrator never reads the environment (replay safety).
  // A terminated or failed instance's last input still holds the removal budget's records: a restart
  // must not reset what was removed without approval (only purging the instance loses them).
  const previous = status?.input as Partial<ReconcilerInput> | undefined;
  // The reason always travels as an event, never in the start's input: on Azure Storage two
  // simultaneous starts can both "succeed" while the second one's input is discarded, but events
  // raised to the instance all arrive.
  const input: ReconcilerInput = {
    policyId,
    pass: 1,
    pending: [],
    settings: reconcilerSettingsFrom(appSettings()),
    ...(Array.isArray(previous?.removals) ? { removals: previous.removals } : {}),
  };
  try {
    await client.startNew(RECONCILER, { instanceId, input });
  } catch (error) {
    // Another trigger started it between our read and our start (409): hand the reason to that one.
    const again = await statusOf(client, instanceId);
    if (again !== undefined && ALIVE.has(String(again.runtimeStatus))) {
      await client.raiseEvent(instanceId, EVENT_CHANGED, reason);
      return "raised";
    }
    throw error;
  }
  await client.raiseEvent(instanceId, EVENT_CHANGED, reason);
  return "started";
}

/**
 * A policy's egress index as its reconciler keeps it (ReconcilerInput.egress), when it can be trusted
 * to say which network changes concern the policy: only while the reconciler is idle and the index
 * comes from its last pass. A pass under way (or one whose index has not reached the input yet) may
 * have read the network before the change, so the policy is concerned whatever its index says.
 */
export async function egressIndexView(client: DurableClient, policyId: string): Promise<IndexView> {
  const status = await statusOf(client, instanceIdFor(policyId));
  if (status === undefined) return { missing: "no reconciler yet" };
  const egress = (status.input as Partial<ReconcilerInput> | undefined)?.egress;
  if (egress === undefined || !isEgressIndex(egress.index)) return { missing: "no index yet" };
  const custom = status.customStatus as Partial<ReconcilerStatus> | undefined;
  if (custom?.phase === undefined) return { missing: "its reconciler is starting" };
  if (custom.phase !== "idle") return { missing: `a pass is under way (${custom.phase})` };
  if (custom.last?.pass !== egress.pass) return { missing: "its index predates its last pass" };
  return { index: egress.index };
}
