// Narrows one ARM event from Event Grid (Event Grid schema or CloudEvents 1.0) to what the app acts
// on: which firewall policies' reconcilers to wake, and why; or why it is dropped.
//
// Whatever arrives, narrowing answers (never throws) with bounded work: the event's shape is checked
// first without recursion (depth, number of values, amount of text), so nothing after it (the
// @azure/eventgrid deserializer, zod, String(), JSON.stringify of the log line) ever walks an event
// nested thousands deep; and every text taken from the event into a reason or log line is clipped.
import type { EventGridDeserializer } from "@azure/eventgrid";
import { z } from "zod";
import { eventGrid } from "../../azure/sdk";
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
  // Where egress goes (issue 13): node subnets and their networks (DNS servers), route tables and
  // their routes, Azure Firewalls (IP, policy), and Virtual WAN hubs' routing intent and connections.
  "Microsoft.Network/virtualNetworks/write",
  "Microsoft.Network/virtualNetworks/subnets/write",
  "Microsoft.Network/virtualNetworks/subnets/delete",
  "Microsoft.Network/routeTables/write",
  "Microsoft.Network/routeTables/delete",
  "Microsoft.Network/routeTables/routes/write",
  "Microsoft.Network/routeTables/routes/delete",
  "Microsoft.Network/azureFirewalls/write",
  "Microsoft.Network/azureFirewalls/delete",
  "Microsoft.Network/virtualHubs/routingIntent/write",
  "Microsoft.Network/virtualHubs/routingIntent/delete",
  "Microsoft.Network/virtualHubs/hubVirtualNetworkConnections/write",
  "Microsoft.Network/virtualHubs/hubVirtualNetworkConnections/delete",
] as const;

const OPERATION_SET = new Set(OPERATIONS.map((o) => o.toLowerCase()));
const OBJECT_ID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier";
const GROUP_URI =
  /^(\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.network\/firewallpolicies\/[^/]+)\/rulecollectiongroups\/[^/]+$/i;

export type NarrowedEvent =
  | { kind: "drop"; reason: string; eventId?: string }
  | { kind: "signal"; policies: string[]; reason: ChangeReason };

/** An ARM event is a few KB, four or five levels deep; Event Grid's own limit for one event is 1 MB. */
export const EVENT_SHAPE_LIMITS = { maxDepth: 32, maxValues: 10_000, maxTextChars: 1024 * 1024 } as const;

/** ARM's longest request URI is 2,048 characters; a resource ID is shorter still. */
const MAX_RESOURCE_URI = 2048;
const MAX_QUOTED = 200;
const MAX_REASON = 1000;

const armData = z.object({
  operationName: z.string().min(1).max(MAX_QUOTED),
  resourceUri: z.string().min(1).max(MAX_RESOURCE_URI),
  claims: z.record(z.string(), z.unknown()).optional(),
});

/** Text from an event, as quoted in a reason or a log line: at most `max` characters. */
export function clip(text: string, max = MAX_QUOTED): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} characters)`;
}

/**
 * Why `value` is too deep or too big to be an ARM event, found with an explicit stack (no recursion,
 * at most `maxValues` visits); undefined when it is within the limits.
 */
export function shapeProblem(value: unknown, limits = EVENT_SHAPE_LIMITS): string | undefined {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  let seen = 0;
  let chars = 0;
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    seen++;
    const item = next.value;
    if (typeof item === "string") {
      chars += item.length;
      if (chars > limits.maxTextChars) return `more than ${limits.maxTextChars} characters of text`;
      continue;
    }
    if (typeof item !== "object" || item === null) continue;
    if (next.depth > limits.maxDepth) return `nested deeper than ${limits.maxDepth} levels`;
    const children = Array.isArray(item) ? (item as unknown[]) : Object.keys(item);
    if (seen + stack.length + children.length > limits.maxValues)
      return `more than ${limits.maxValues} values`;
    if (Array.isArray(item)) {
      for (const child of item as unknown[]) stack.push({ value: child, depth: next.depth + 1 });
    } else {
      for (const key of children as string[]) {
        chars += key.length;
        stack.push({ value: (item as Record<string, unknown>)[key], depth: next.depth + 1 });
      }
      if (chars > limits.maxTextChars) return `more than ${limits.maxTextChars} characters of text`;
    }
  }
  return undefined;
}

/** A claim's value, if it is text (a claim of any other type is ignored, never converted). */
function claimText(claims: Record<string, unknown> | undefined, ...names: string[]): string {
  for (const name of names) {
    const value = claims?.[name];
    if (typeof value === "string") return value.toLowerCase();
  }
  return "";
}

// Made on the first event, not when the app loads (cold start: azure/sdk.ts).
let deserializer: EventGridDeserializer | undefined;

/** The envelope, checked by @azure/eventgrid's own deserializer; a malformed one is dropped, not retried. */
async function envelope(
  raw: unknown,
): Promise<{ id: string; type: string; data: unknown } | { error: string }> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    return { error: "event is not an object" };
  deserializer ??= new (eventGrid().EventGridDeserializer)();
  try {
    if ("specversion" in raw) {
      const [event] = await deserializer.deserializeCloudEvents(raw as Record<string, unknown>);
      return event ? { id: event.id, type: event.type, data: event.data } : { error: "empty CloudEvent" };
    }
    const [event] = await deserializer.deserializeEventGridEvents(raw as Record<string, unknown>);
    return event ? { id: event.id, type: event.eventType, data: event.data } : { error: "empty event" };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * What to do with one event as delivered. Never throws: an event it cannot read is dropped with the
 * reason (Event Grid would retry a failed delivery for 24 h, and the same event would fail again).
 */
export async function narrowArmEvent(raw: unknown, settings: AppSettings): Promise<NarrowedEvent> {
  const problem = shapeProblem(raw);
  if (problem !== undefined) return { kind: "drop", reason: `malformed event: ${problem}` };
  try {
    return await narrowChecked(raw, settings);
  } catch (error) {
    return {
      kind: "drop",
      reason: clip(`malformed event: ${error instanceof Error ? error.message : String(error)}`, MAX_REASON),
    };
  }
}

async function narrowChecked(raw: unknown, settings: AppSettings): Promise<NarrowedEvent> {
  const event = await envelope(raw);
  if ("error" in event) return { kind: "drop", reason: clip(`malformed event: ${event.error}`, MAX_REASON) };
  const eventId = clip(event.id);
  const drop = (reason: string): NarrowedEvent => ({
    kind: "drop",
    reason: clip(reason, MAX_REASON),
    eventId,
  });
  if (!EVENT_TYPES.some((t) => t.toLowerCase() === event.type.toLowerCase()))
    return drop(`event type ${clip(event.type)} is not handled`);
  const data = armData.safeParse(event.data);
  if (!data.success)
    return drop(
      `malformed ARM event data: ${data.error.issues
        .slice(0, 5)
        .map((i) => `${clip(i.path.join("."))}: ${clip(i.message)}`)
        .join("; ")}`,
    );
  const { operationName, resourceUri, claims } = data.data;
  if (!OPERATION_SET.has(operationName.toLowerCase()))
    return drop(`operation ${operationName} is not in scope`);

  const objectId = claimText(claims, OBJECT_ID_CLAIM, "oid");
  const appId = claimText(claims, "appid", "azp");
  if (
    (settings.appObjectId && objectId === settings.appObjectId.toLowerCase()) ||
    (settings.appClientId && appId === settings.appClientId.toLowerCase())
  ) {
    return drop("caused by this app's own identity");
  }

  const reason: ChangeReason = {
    source: "event",
    detail: `${operationName} ${resourceUri}`,
    eventId,
  };
  const group = GROUP_URI.exec(resourceUri);
  if (group) {
    const policy = settings.firewallPolicies.find((p) => p.toLowerCase() === (group[1] ?? "").toLowerCase());
    return policy
      ? { kind: "signal", policies: [policy], reason }
      : drop(`firewall policy of ${clip(resourceUri, MAX_RESOURCE_URI)} is not in scope`);
  }
  // A cluster or pool change may concern any policy in scope: the one its tag names, and the one
  // whose group still holds it (a moved or deleted cluster leaves stale rules there). A network change
  // (route table, route, firewall, hub routing) may move a cluster from one policy to another: the
  // policies it left and the one it reaches. Mapping an event to those would mean reading the network
  // here; a pass with no drift only reads, so every policy in scope is woken.
  return { kind: "signal", policies: [...settings.firewallPolicies], reason };
}
