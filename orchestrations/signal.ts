// Hands a change over to a policy's reconciler: raise an event on the running instance, or start it.
import type { DurableClient } from "durable-functions";
import { instanceIdFor } from "./instance-id";
import { type ChangeReason, EVENT_CHANGED, RECONCILER, type ReconcilerInput } from "./reconciler";

const ALIVE = new Set(["Running", "Pending", "ContinuedAsNew"]);

async function statusOf(client: DurableClient, instanceId: string) {
  try {
    return await client.getStatus(instanceId);
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
  const input: ReconcilerInput = { policyId, pass: 1, pending: [reason] };
  try {
    await client.startNew(RECONCILER, { instanceId, input });
    return "started";
  } catch (error) {
    // Another trigger started it between our read and our start: hand the reason to that one.
    const again = await statusOf(client, instanceId);
    if (again !== undefined && ALIVE.has(String(again.runtimeStatus))) {
      await client.raiseEvent(instanceId, EVENT_CHANGED, reason);
      return "raised";
    }
    throw error;
  }
}
