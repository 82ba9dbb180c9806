// Narrows one ARM event from Event Grid (Event Grid schema or CloudEvents 1.0) to what the app acts
// on: which firewall policies' reconcilers to wake, and why; or why it is dropped.
//
// Whatever arrives, narrowing answers (never throws) with bounded work: the event's shape is checked
// first without recursion (depth, number of values, amount of text), so nothing after it (the
// @azure/eventgrid deserializer, zod, String(), JSON.stringify of the log line) ever walks an event
// nested thousands deep; and every text taken from the event into a reason or log line is clipped.
//
// An event about the network (route tables and routes, subnets, virtual networks, Azure Firewalls, hub
// routing intent and connections) is narrowed to the policies it concerns: those whose clusters'
// egress passes the resource (each reconciler keeps its last pass's egress index), and those it now
// leads to (the resource is read from ARM as it is now). Whenever that cannot be known for sure, the
// policy concerned is every one in scope, and the reason says why: a missed wake lasts until the sweep.
import type { EventGridDeserializer } from "@azure/eventgrid";
import { z } from "zod";
import type { NetworkReader } from "../../azure/event-target";
import { parseResourceId } from "../../azure/resource-id";
import { eventGrid } from "../../azure/sdk";
import type { ChangeReason } from "../../orchestrations/reconciler";
import type { AppSettings } from "../../orchestrations/settings";
import {
  concernedPolicies,
  firewallReach,
  formatConcerns,
  type IndexView,
  joinReach,
  type NetworkChange,
  NOWHERE,
  nameOf,
  type OnPath,
  type Reach,
  resourceKey,
  routeTableReach,
} from "../../topology";

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

/** What narrowing a network event reads: the reconcilers' egress indexes, and the network itself. */
export interface EventReaders {
  /** Each policy's egress index as its reconciler keeps it, by lower-cased policy ID. */
  indexes(policyIds: readonly string[]): Promise<Map<string, IndexView>>;
  network: NetworkReader;
  /** How long the reads may take together (NETWORK_READ_DEADLINE_MS by default). */
  deadlineMs?: number;
}

/** Event Grid waits 30 s for an answer: past this, the event wakes every policy instead. */
export const NETWORK_READ_DEADLINE_MS = 15_000;
/** A virtual network's subnets use at most this many route tables before it wakes every policy. */
const ROUTE_TABLES_READ_MAX = 20;
const MAX_EXPLANATION = 700;

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
export async function narrowArmEvent(
  raw: unknown,
  settings: AppSettings,
  readers?: EventReaders,
): Promise<NarrowedEvent> {
  const problem = shapeProblem(raw);
  if (problem !== undefined) return { kind: "drop", reason: `malformed event: ${problem}` };
  try {
    return await narrowChecked(raw, settings, readers);
  } catch (error) {
    return {
      kind: "drop",
      reason: clip(`malformed event: ${error instanceof Error ? error.message : String(error)}`, MAX_REASON),
    };
  }
}

async function narrowChecked(
  raw: unknown,
  settings: AppSettings,
  readers: EventReaders | undefined,
): Promise<NarrowedEvent> {
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
  const target = networkTarget(operationName, resourceUri);
  if (target === undefined) {
    // A cluster or pool change may concern any policy in scope: the one its tag names, and the one
    // whose group still holds it (a moved or deleted cluster leaves stale rules there). A pass with
    // no drift only reads, so every policy in scope is woken.
    return { kind: "signal", policies: [...settings.firewallPolicies], reason };
  }
  return narrowNetworkEvent(target, settings, reason, readers, drop);
}

type NetworkKind =
  | "routeTable"
  | "route"
  | "virtualNetwork"
  | "subnet"
  | "firewall"
  | "hubConnection"
  | "routingIntent";

/** Network operations by resource type (lower-cased), and what people call the resource. */
const NETWORK_KINDS: Record<string, { kind: NetworkKind; noun: string }> = {
  "microsoft.network/routetables": { kind: "routeTable", noun: "route table" },
  "microsoft.network/routetables/routes": { kind: "route", noun: "route" },
  "microsoft.network/virtualnetworks": { kind: "virtualNetwork", noun: "virtual network" },
  "microsoft.network/virtualnetworks/subnets": { kind: "subnet", noun: "subnet" },
  "microsoft.network/azurefirewalls": { kind: "firewall", noun: "Azure Firewall" },
  "microsoft.network/virtualhubs/hubvirtualnetworkconnections": {
    kind: "hubConnection",
    noun: "hub connection",
  },
  "microsoft.network/virtualhubs/routingintent": { kind: "routingIntent", noun: "routing intent" },
};

interface NetworkTarget {
  kind: NetworkKind;
  noun: string;
  deleted: boolean;
  /** The resource as the event names it; undefined when that ID does not fit the operation. */
  id?: string;
  /** A child's parent: a route's table, a subnet's network, a connection's or routing intent's hub. */
  parentId?: string;
}

/** The network resource a network operation is about; undefined for any other operation. */
function networkTarget(operationName: string, resourceUri: string): NetworkTarget | undefined {
  const operation = operationName.toLowerCase();
  const type = operation.replace(/\/(write|delete)$/, "");
  const known = NETWORK_KINDS[type];
  if (known === undefined) return undefined;
  const base = { ...known, deleted: operation.endsWith("/delete") };
  let parsed: ReturnType<typeof parseResourceId>;
  try {
    parsed = parseResourceId(resourceUri);
  } catch {
    return base;
  }
  const [resourceType, ...childTypes] = type.split("/").slice(1);
  const fits =
    parsed.type.toLowerCase() === `microsoft.network/${resourceType}` &&
    parsed.children.length === childTypes.length &&
    parsed.children.every(([child, name], i) => child.toLowerCase() === childTypes[i] && name !== "");
  if (!fits) return base;
  const parentId = `/subscriptions/${parsed.subscriptionId}/resourceGroups/${parsed.resourceGroup}/providers/${parsed.type}/${parsed.name}`;
  return { ...base, id: parsed.raw, ...(childTypes.length > 0 ? { parentId } : {}) };
}

/** Rejects when `promise` has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} gave no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** What the event changes, and where the resource leads now (read from ARM). Throws when a read fails. */
async function networkChange(
  target: NetworkTarget & { id: string },
  network: NetworkReader,
): Promise<NetworkChange> {
  const { id, parentId = id, deleted } = target;
  const tableReach = async (tableId: string | undefined): Promise<Reach> => {
    if (tableId === undefined) return routeTableReach(undefined);
    const table = await network.routeTable(tableId);
    // A subnet's route table that ARM does not know: where its egress goes cannot be told.
    if (table === undefined) throw new Error(`route table ${nameOf(tableId)} was not found`);
    return routeTableReach(table);
  };
  switch (target.kind) {
    case "routeTable":
    case "route": {
      const onPath: OnPath[] = [{ id: parentId, noun: "route table" }];
      // A route's table is still there when the route goes: where it leads now is read either way.
      if (deleted && target.kind === "routeTable") return { onPath };
      const table = await network.routeTable(parentId);
      return table === undefined ? { onPath } : { onPath, reach: routeTableReach(table) };
    }
    case "subnet": {
      // Its own prefixes and route table: a sibling subnet changes nothing for the clusters here.
      const onPath: OnPath[] = [{ id, noun: "subnet" }];
      if (deleted) return { onPath };
      const subnet = await network.subnet(id);
      return subnet === undefined ? { onPath } : { onPath, reach: await tableReach(subnet.routeTableId) };
    }
    case "virtualNetwork": {
      const onPath: OnPath[] = [{ id, noun: "virtual network" }];
      if (deleted) return { onPath };
      const read = await network.virtualNetwork(id);
      if (read === undefined) return { onPath };
      const tables = [...new Map(read.subnetRouteTables.map((t) => [t && resourceKey(t), t])).values()];
      if (tables.length > ROUTE_TABLES_READ_MAX)
        throw new Error(`its subnets use more than ${ROUTE_TABLES_READ_MAX} route tables`);
      return { onPath, reach: joinReach(await Promise.all(tables.map(tableReach))) };
    }
    case "firewall": {
      const onPath: OnPath[] = [{ id, noun: "Azure Firewall" }];
      if (deleted) return { onPath, firewallId: id };
      const firewall = await network.firewall(id);
      return firewall === undefined
        ? { onPath, firewallId: id }
        : { onPath, firewallId: id, reach: firewallReach(firewall) };
    }
    case "hubConnection": {
      const onPath: OnPath[] = [{ id: parentId, noun: "virtual hub" }];
      if (deleted) return { onPath };
      const connection = await network.hubConnection(id);
      if (connection === undefined) return { onPath };
      return {
        onPath: [...onPath, { id: connection.remoteVirtualNetworkId, noun: "virtual network" }],
        reach: { ...NOWHERE, hubs: [parentId] },
      };
    }
    case "routingIntent": {
      // Its next hop is the hub's own firewall (or an appliance in the hub): the hub says where.
      const onPath: OnPath[] = [{ id: parentId, noun: "virtual hub" }];
      return deleted ? { onPath } : { onPath, reach: { ...NOWHERE, hubs: [parentId] } };
    }
  }
}

async function narrowNetworkEvent(
  target: NetworkTarget,
  settings: AppSettings,
  reason: ChangeReason,
  readers: EventReaders | undefined,
  drop: (reason: string) => NarrowedEvent,
): Promise<NarrowedEvent> {
  const policies = settings.firewallPolicies;
  const every = (why: string): NarrowedEvent => ({
    kind: "signal",
    policies: [...policies],
    reason: { ...reason, detail: `${reason.detail} (every policy in scope: ${clip(why, MAX_EXPLANATION)})` },
  });
  if (readers === undefined) return every("the network was not read");
  const { id } = target;
  if (id === undefined) return every(`its resource ID does not fit the operation`);
  const what = `${target.noun} ${clip(nameOf(id))}`;
  let change: NetworkChange;
  let views: Map<string, IndexView>;
  try {
    [change, views] = await within(
      Promise.all([networkChange({ ...target, id }, readers.network), readers.indexes(policies)]),
      readers.deadlineMs ?? NETWORK_READ_DEADLINE_MS,
      "the network or the reconcilers",
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return every(`${what} could not be read: ${clip(message)}`);
  }
  const concerns = concernedPolicies(change, policies, views, settings);
  if (concerns.length === 0) {
    return drop(
      change.reach === undefined
        ? `${what} is gone and carried no served cluster's traffic`
        : `${what} leads to no policy in scope and carries no served cluster's traffic`,
    );
  }
  const scope =
    concerns.length === policies.length
      ? "every policy in scope"
      : `concerns ${concerns.length} of ${policies.length} policies`;
  return {
    kind: "signal",
    policies: concerns.map((c) => c.policyId),
    reason: {
      ...reason,
      detail: `${reason.detail} (${scope}: ${clip(formatConcerns(concerns), MAX_EXPLANATION)})`,
    },
  };
}
