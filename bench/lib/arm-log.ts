// Counting what the app asked ARM for, from the emulator's request log.

import { canonicalJson, normaliseGroup, type RuleCollectionGroup } from "../../drift";
import type { RequestLogEntry } from "../../local/arm-emulator";
import { CLUSTER_ID, GROUP_ID, matchPattern, POLICY_ID, SUBNET_ID } from "../../local/arm-emulator/paths";
import { OPERATION_RESULT, OPERATION_STATUS } from "../../local/arm-emulator/writes";
import type { HostLogEntry } from "../../local/functions-host";

export const KINDS = [
  "policy GET",
  "group LIST",
  "group GET",
  "cluster LIST",
  "cluster GET",
  "vnet LIST",
  "subnet GET",
  "group PUT",
  "LRO poll",
  "other",
] as const;
export type RequestKind = (typeof KINDS)[number];

const PATTERNS: [RequestKind, string, string][] = [
  ["cluster LIST", "GET", "/subscriptions/{s}/providers/Microsoft.ContainerService/managedClusters"],
  [
    "cluster LIST",
    "GET",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters",
  ],
  ["cluster GET", "GET", CLUSTER_ID],
  ["vnet LIST", "GET", "/subscriptions/{s}/providers/Microsoft.Network/virtualNetworks"],
  ["subnet GET", "GET", SUBNET_ID],
  ["policy GET", "GET", POLICY_ID],
  ["group LIST", "GET", `${POLICY_ID}/ruleCollectionGroups`],
  ["group GET", "GET", GROUP_ID],
  ["group PUT", "PUT", GROUP_ID],
  ["LRO poll", "GET", OPERATION_STATUS],
  ["LRO poll", "GET", OPERATION_RESULT],
];

export function kindOf(entry: Pick<RequestLogEntry, "method" | "path">): RequestKind {
  for (const [kind, method, pattern] of PATTERNS) {
    if (entry.method.toUpperCase() === method && matchPattern(pattern, entry.path)) return kind;
  }
  return "other";
}

export function countByKind(entries: readonly RequestLogEntry[]): Record<RequestKind, number> {
  const counts = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<RequestKind, number>;
  for (const entry of entries) counts[kindOf(entry)] += 1;
  return counts;
}

/** Reads: every GET but the polls of a running write (those depend on the write's duration). */
export function readsOf(counts: Record<RequestKind, number>): number {
  return KINDS.filter((k) => k !== "group PUT" && k !== "LRO poll" && k !== "other").reduce(
    (n, k) => n + counts[k],
    0,
  );
}

/** Canonical form of a group's rules, to tell which PUT carried the final state. */
export function canonicalRules(priority: number, ruleCollections: unknown): string {
  const group = { name: "g", priority, ruleCollections } as unknown as RuleCollectionGroup;
  return canonicalJson(normaliseGroup(group));
}

export interface PutTimeline {
  /** Successful PUTs (2xx), in order. */
  puts: { atMs: number; body: string }[];
  /** PUTs refused because another write was running, or throttled. */
  busy: number;
}

export function putTimeline(entries: readonly RequestLogEntry[]): PutTimeline {
  const puts: PutTimeline["puts"] = [];
  let busy = 0;
  for (const entry of entries) {
    if (kindOf(entry) !== "group PUT") continue;
    if (entry.status === 409 || entry.status === 429) busy += 1;
    if (entry.status < 200 || entry.status >= 300) continue;
    const body = entry.body as { properties?: { priority?: number; ruleCollections?: unknown } } | undefined;
    puts.push({
      atMs: Date.parse(entry.at),
      body: canonicalRules(body?.properties?.priority ?? 0, body?.properties?.ruleCollections ?? []),
    });
  }
  return { puts, busy };
}

/** The host's PassStarted/PassCompleted lines, and the outcome of the last pass completed ("" when none). */
export function passLines(logs: readonly HostLogEntry[]): { lines: HostLogEntry[]; outcome: string } {
  const lines = logs.filter(
    (l) => l.kind === "log" && /^AksEgressGuard\.Pass(Started|Completed) /.test(l.message),
  );
  const completed = lines.at(-1);
  const outcome =
    completed?.kind === "log"
      ? String(
          (JSON.parse(completed.message.slice(completed.message.indexOf("{"))) as { outcome?: string })
            .outcome,
        )
      : "";
  return { lines, outcome };
}
