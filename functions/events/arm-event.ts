// Narrows one ARM event from Event Grid (Event Grid schema or CloudEvents 1.0) to what the app acts
// on: which firewall policies' reconcilers to wake, and why; or why it is dropped.
import { EventGridDeserializer } from "@azure/eventgrid";
import { z } from "zod";
import type { ChangeReason } from "../../orchestrations/reconciler";
import type { AppSettings } from "../../orchestrations/settings";

export const EVENT_TYPES = [
  "Microsoft.Resources.ResourceWriteSuccess",
  "Microsoft.Resources.ResourceDeleteSuccess",
] as const;

/** The ARM operations the app cares about (compared case-insensitively: casing varies by source). */
export const OPERATIONS = [
  "Microsoft.ContainerService/managedClusters/write",
  "Microsoft.ContainerService/managedClusters/delete",
  "Microsoft.ContainerService/managedClusters/agentPools/write",
  "Microsoft.ContainerService/managedClusters/agentPools/delete",
  "Microsoft.Network/firewallPolicies/ruleCollectionGroups/write",
  "Microsoft.Network/firewallPolicies/ruleCollectionGroups/delete",
] as const;

const OPERATION_SET = new Set(OPERATIONS.map((o) => o.toLowerCase()));
const OBJECT_ID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier";
const GROUP_URI =
  /^(\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.network\/firewallpolicies\/[^/]+)\/rulecollectiongroups\/[^/]+$/i;

export type NarrowedEvent =
  | { kind: "drop"; reason: string; eventId?: string }
  | { kind: "signal"; policies: string[]; reason: ChangeReason };

const armData = z.object({
  operationName: z.string().min(1),
  resourceUri: z.string().min(1),
  claims: z.record(z.string(), z.unknown()).optional(),
});

const deserializer = new EventGridDeserializer();

/** The envelope, checked by @azure/eventgrid's own deserializer; a malformed one is dropped, not retried. */
async function envelope(
  raw: unknown,
): Promise<{ id: string; type: string; data: unknown } | { error: string }> {
  try {
    if (typeof raw === "object" && raw !== null && "specversion" in raw) {
      const [event] = await deserializer.deserializeCloudEvents(raw as Record<string, unknown>);
      return event ? { id: event.id, type: event.type, data: event.data } : { error: "empty CloudEvent" };
    }
    const [event] = await deserializer.deserializeEventGridEvents(raw as Record<string, unknown>);
    return event ? { id: event.id, type: event.eventType, data: event.data } : { error: "empty event" };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

export async function narrowArmEvent(raw: unknown, settings: AppSettings): Promise<NarrowedEvent> {
  const event = await envelope(raw);
  if ("error" in event) return { kind: "drop", reason: `malformed event: ${event.error}` };
  const drop = (reason: string): NarrowedEvent => ({ kind: "drop", reason, eventId: event.id });
  if (!EVENT_TYPES.some((t) => t.toLowerCase() === event.type.toLowerCase()))
    return drop(`event type ${event.type} is not handled`);
  const data = armData.safeParse(event.data);
  if (!data.success)
    return drop(
      `malformed ARM event data: ${data.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const { operationName, resourceUri, claims } = data.data;
  if (!OPERATION_SET.has(operationName.toLowerCase()))
    return drop(`operation ${operationName} is not in scope`);

  const objectId = String(claims?.[OBJECT_ID_CLAIM] ?? claims?.oid ?? "").toLowerCase();
  const appId = String(claims?.appid ?? claims?.azp ?? "").toLowerCase();
  if (
    (settings.appObjectId && objectId === settings.appObjectId.toLowerCase()) ||
    (settings.appClientId && appId === settings.appClientId.toLowerCase())
  ) {
    return drop("caused by this app's own identity");
  }

  const reason: ChangeReason = {
    source: "event",
    detail: `${operationName} ${resourceUri}`,
    eventId: event.id,
  };
  const group = GROUP_URI.exec(resourceUri);
  if (group) {
    const policy = settings.firewallPolicies.find((p) => p.toLowerCase() === (group[1] ?? "").toLowerCase());
    return policy
      ? { kind: "signal", policies: [policy], reason }
      : drop(`firewall policy of ${resourceUri} is not in scope`);
  }
  // A cluster or pool change may concern any policy in scope: the one its tag names, and the one
  // whose group still holds it (a moved or deleted cluster leaves stale rules there). A pass with no
  // drift only reads, so every policy in scope is woken.
  return { kind: "signal", policies: [...settings.firewallPolicies], reason };
}
