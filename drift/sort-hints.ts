// Sorting that a warm host mostly need not redo: it plans the same policy pass after pass, and the
// clusters' IDs and sources come in the same order as last time. The previous order is kept as a
// hint and checked against the new input in one pass; it is used only when the check proves it is
// the order a full sort would give, so what is remembered can make planning faster, never different.
import { byText } from "./canonical";
import { clusterKey } from "./naming";

/** The last order stableOrder gave, by length: a permutation of 0..n-1, never handed out to change. */
let lastOrder: Int32Array | undefined;

/**
 * The indices of `keys` in byText order, equal keys in input order (a stable sort). Read only: the
 * array is kept as the next call's hint.
 */
export function stableOrder(keys: readonly string[]): Readonly<Int32Array> {
  const n = keys.length;
  const hint = lastOrder;
  // A permutation under which the keys strictly ascend is the only stable sorted order there is.
  if (hint !== undefined && hint.length === n && strictlyAscending(keys, hint)) return hint;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => byText(keys[a] as string, keys[b] as string) || a - b);
  lastOrder = order;
  return order;
}

function strictlyAscending(keys: readonly string[], order: Readonly<Int32Array>): boolean {
  let previous = keys[order[0] ?? 0] as string;
  for (let j = 1; j < order.length; j++) {
    const key = keys[order[j] ?? 0] as string;
    if (!(previous < key)) return false;
    previous = key;
  }
  return true;
}

/** What keyedOrder gave last: the IDs it was given, their keys and the keys' order. Read only. */
interface Keyed {
  ids: readonly string[];
  keys: readonly string[];
  order: Readonly<Int32Array>;
}

let lastKeyed: Keyed | undefined;

/**
 * clusterKey of each item's ID, and stableOrder of those keys. Both are functions of the IDs alone:
 * an ID equal to the one the last call had at its place has the key it had, and when every ID is,
 * the keys and their order are the last call's. Read only: kept as the next call's hint.
 */
export function keyedOrder(items: readonly { id: string }[]): {
  keys: readonly string[];
  order: Readonly<Int32Array>;
} {
  const n = items.length;
  const last = lastKeyed;
  if (last !== undefined && last.ids.length === n) {
    let same = true;
    for (let i = 0; i < n && same; i++) same = (items[i] as { id: string }).id === last.ids[i];
    if (same) return last;
  }
  const ids: string[] = [];
  const keys: string[] = [];
  const lastIds = last?.ids ?? [];
  for (let i = 0; i < n; i++) {
    const id = (items[i] as { id: string }).id;
    ids.push(id);
    keys.push(i < lastIds.length && lastIds[i] === id ? ((last as Keyed).keys[i] as string) : clusterKey(id));
  }
  const keyed: Keyed = { ids, keys, order: stableOrder(keys) };
  lastKeyed = keyed;
  return keyed;
}

/** Distinct texts in byText order, and each one's place in it. Read only: kept as the next hint. */
export interface Ranking {
  ranked: readonly string[];
  rank: ReadonlyMap<string, number>;
}

let lastRanking: Ranking | undefined;

/** A list rankStrings reads: an array, or a set (its size known without walking it). */
export type RankedList = readonly string[] | ReadonlySet<string>;

function sizeOf(list: RankedList): number {
  return Array.isArray(list) ? list.length : (list as ReadonlySet<string>).size;
}

/**
 * The distinct strings of `lists`, sorted (code units), each one's rank, those named more than once
 * (in rank order), and each list's strings as ranks (`ranks[i]` for `lists[i]`, in its order). When
 * the strings are exactly the last call's set, its ranking is the answer (the sorted distinct strings
 * of a set are a function of the set): found by looking each string up, once.
 */
export function rankStrings(
  lists: readonly RankedList[],
): Ranking & { repeated: Set<string>; ranks: Int32Array[] } {
  const last = lastRanking;
  if (last !== undefined) {
    const seen = new Uint8Array(last.ranked.length);
    const ranks: Int32Array[] = [];
    let distinct = 0;
    let known = true;
    search: for (const list of lists) {
      const into = new Int32Array(sizeOf(list));
      ranks.push(into);
      let i = 0;
      for (const s of list) {
        const r = last.rank.get(s);
        if (r === undefined) {
          known = false;
          break search;
        }
        into[i++] = r;
        if (seen[r] === 0) {
          seen[r] = 1;
          distinct += 1;
        } else seen[r] = 2;
      }
    }
    if (known && distinct === last.ranked.length) {
      const repeated = new Set<string>();
      for (let r = 0; r < seen.length; r++) if (seen[r] === 2) repeated.add(last.ranked[r] as string);
      return { ranked: last.ranked, rank: last.rank, repeated, ranks };
    }
  }
  const every: string[] = [];
  for (const list of lists) for (const s of list) every.push(s);
  // All strings: the default order is byText's (code units), without a call per comparison.
  every.sort();
  const ranked: string[] = [];
  const repeated = new Set<string>();
  for (let i = 0; i < every.length; i++) {
    const s = every[i] as string;
    if (i > 0 && s === every[i - 1]) repeated.add(s);
    else ranked.push(s);
  }
  const rank = new Map<string, number>();
  for (let i = 0; i < ranked.length; i++) rank.set(ranked[i] as string, i);
  lastRanking = { ranked, rank };
  const ranks = lists.map((list) => {
    const into = new Int32Array(sizeOf(list));
    let i = 0;
    for (const s of list) into[i++] = rank.get(s) ?? 0;
    return into;
  });
  return { ranked, rank, repeated, ranks };
}
