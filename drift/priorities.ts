// Collection priorities inside the managed group. They must be STABLE: adding or removing one
// cluster never renumbers another's collections, so a change to one cluster is a change to its own
// collections only, and a plan stays small enough to read and approve.
import { byText } from "./canonical";
import type { CollectionKind } from "./naming";

export const PRIORITY_MIN = 100;
export const PRIORITY_MAX = 65000;
/**
 * A fresh cluster takes a slot of ten numbers: its application rules at the slot's first number and
 * its network rules at the next, so both land together; the rest is room that nothing relies on.
 */
export const SLOT_SIZE = 10;
const OFFSET: Readonly<Record<CollectionKind, number>> = { app: 0, net: 1 };

export interface PriorityRequest {
  /** Lower-cased cluster ID: fresh slots are handed out in this order. */
  clusterKey: string;
  /** The collections the cluster needs now. */
  kinds: readonly CollectionKind[];
  /** Priorities its collections of those kinds have in the group as read. */
  existing: Partial<Record<CollectionKind, number>>;
}

export function inRange(priority: number): boolean {
  return Number.isInteger(priority) && priority >= PRIORITY_MIN && priority <= PRIORITY_MAX;
}

/**
 * Keeps every existing priority (unless out of range or taken twice), then gives a cluster's missing
 * collection the number next to its sibling when free, else the first free slot. `reserved` holds
 * priorities of collections kept as they are. Past 65000 it keeps counting: the plan then refuses
 * with the numbers rather than silently reusing a priority.
 */
export function allocatePriorities(
  requests: readonly PriorityRequest[],
  reserved: readonly number[],
): Map<string, Partial<Record<CollectionKind, number>>> {
  const used = new Set(reserved);
  const result = new Map<string, Partial<Record<CollectionKind, number>>>();
  const ordered = [...requests].sort((a, b) => byText(a.clusterKey, b.clusterKey));

  for (const request of ordered) {
    const assigned: Partial<Record<CollectionKind, number>> = {};
    for (const kind of request.kinds) {
      const priority = request.existing[kind];
      if (priority !== undefined && inRange(priority) && !used.has(priority)) {
        assigned[kind] = priority;
        used.add(priority);
      }
    }
    result.set(request.clusterKey, assigned);
  }

  let slot = 0;
  const slotFree = (base: number) => !used.has(base + OFFSET.app) && !used.has(base + OFFSET.net);
  for (const request of ordered) {
    const assigned = result.get(request.clusterKey) ?? {};
    const missing = request.kinds.filter((kind) => assigned[kind] === undefined);
    if (missing.length === 0) continue;
    const sibling = request.kinds.find((kind) => assigned[kind] !== undefined);
    const siblingPriority = sibling === undefined ? undefined : assigned[sibling];
    let fresh: number | undefined;
    for (const kind of missing) {
      if (sibling !== undefined && siblingPriority !== undefined) {
        const next = siblingPriority - OFFSET[sibling] + OFFSET[kind];
        if (inRange(next) && !used.has(next)) {
          assigned[kind] = next;
          used.add(next);
          continue;
        }
      }
      if (fresh === undefined) {
        while (!slotFree(PRIORITY_MIN + slot * SLOT_SIZE)) slot++;
        fresh = PRIORITY_MIN + slot * SLOT_SIZE;
        // Both numbers of the slot are taken, so that a later second collection lands next to the first.
        used.add(fresh + OFFSET.app);
        used.add(fresh + OFFSET.net);
      }
      assigned[kind] = fresh + OFFSET[kind];
    }
    result.set(request.clusterKey, assigned);
  }
  return result;
}
