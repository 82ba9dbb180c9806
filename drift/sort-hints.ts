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
  /** No key is there twice. */
  distinct: boolean;
}

let lastKeyed: Keyed | undefined;

/**
 * clusterKey of each item's ID, stableOrder of those keys, and whether no key is there twice (equal
 * keys are next to each other in that order). All are functions of the IDs alone:
 * an ID equal to the one the last call had at its place has the key it had, and when every ID is,
 * the keys and their order are the last call's. Read only: kept as the next call's hint.
 */
export function keyedOrder(items: readonly { id: string }[]): {
  keys: readonly string[];
  order: Readonly<Int32Array>;
  distinct: boolean;
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
  // Places whose ID is not the one the last call had there.
  const changed: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = (items[i] as { id: string }).id;
    ids.push(id);
    if (i < lastIds.length && lastIds[i] === id) keys.push((last as Keyed).keys[i] as string);
    else {
      keys.push(clusterKey(id));
      changed.push(i);
    }
  }
  const order =
    last !== undefined && changed.length < n ? mergedOrder(keys, last.order, changed) : stableOrder(keys);
  let distinct = true;
  for (let j = 1; j < order.length && distinct; j++)
    distinct = keys[order[j] as number] !== keys[order[j - 1] as number];
  const keyed: Keyed = { ids, keys, order, distinct };
  lastKeyed = keyed;
  return keyed;
}

/**
 * stableOrder(keys), where the keys at all places but `changed` (ascending) are those `before`
 * ordered: those places keep their order, the changed ones are sorted and merged in. The order is
 * by (key, place), a total order, so this is the one order a full sort gives.
 */
function mergedOrder(
  keys: readonly string[],
  before: Readonly<Int32Array>,
  changed: number[],
): Readonly<Int32Array> {
  const n = keys.length;
  const isChanged = new Uint8Array(n);
  for (const i of changed) isChanged[i] = 1;
  const compare = (a: number, b: number) => byText(keys[a] as string, keys[b] as string) || a - b;
  changed.sort(compare);
  const order = new Int32Array(n);
  let k = 0;
  let c = 0;
  for (let t = 0; t < before.length; t++) {
    const i = before[t] as number;
    if (i >= n || isChanged[i] === 1) continue;
    while (c < changed.length && compare(changed[c] as number, i) < 0) order[k++] = changed[c++] as number;
    order[k++] = i;
  }
  while (c < changed.length) order[k++] = changed[c++] as number;
  lastOrder = order;
  return order;
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
export function rankStrings(lists: readonly RankedList[]): Ranked {
  // The same strings in the same lists as last call: its answer, found by comparing in order.
  const before = lastRanked;
  if (before !== undefined && sameLists(lists, before)) return before.result;
  const result = rankAnew(lists);
  lastRanked = { sizes: lists.map(sizeOf), strings: flatten(lists), result };
  return result;
}

/** What rankStrings gives. Read only: the last answer is handed out again for equal lists. */
export type Ranked = Ranking & { repeated: ReadonlySet<string>; ranks: readonly Int32Array[] };

/** The lists rankStrings was last given, copied (sizes and strings in order), and its answer. */
let lastRanked: { sizes: readonly number[]; strings: readonly string[]; result: Ranked } | undefined;

function flatten(lists: readonly RankedList[]): string[] {
  const strings: string[] = [];
  for (const list of lists) for (const s of list) strings.push(s);
  return strings;
}

function sameLists(
  lists: readonly RankedList[],
  before: { sizes: readonly number[]; strings: readonly string[] },
): boolean {
  if (lists.length !== before.sizes.length) return false;
  for (let i = 0; i < lists.length; i++) if (sizeOf(lists[i] as RankedList) !== before.sizes[i]) return false;
  const { strings } = before;
  let at = 0;
  for (const list of lists) {
    if (Array.isArray(list)) {
      const items = list as readonly string[];
      for (let i = 0; i < items.length; i++) if (items[i] !== strings[at++]) return false;
    } else for (const s of list) if (s !== strings[at++]) return false;
  }
  return at === strings.length;
}

function rankAnew(lists: readonly RankedList[]): Ranking & { repeated: Set<string>; ranks: Int32Array[] } {
  const last = lastRanking;
  if (last !== undefined) {
    // Each string's rank in the last ranking, -1 for one it did not have; how often each was seen.
    const count = new Uint8Array(last.ranked.length);
    const before: Int32Array[] = [];
    const fresh: string[] = [];
    let distinct = 0;
    for (const list of lists) {
      const into = new Int32Array(sizeOf(list));
      before.push(into);
      let i = 0;
      for (const s of list) {
        const r = last.rank.get(s);
        if (r === undefined) {
          into[i++] = -1;
          fresh.push(s);
          continue;
        }
        into[i++] = r;
        if (count[r] === 0) distinct += 1;
        if ((count[r] as number) < 2) count[r] = (count[r] as number) + 1;
      }
    }
    if (fresh.length === 0 && distinct === last.ranked.length) {
      const repeated = new Set<string>();
      for (let r = 0; r < count.length; r++) if (count[r] === 2) repeated.add(last.ranked[r] as string);
      return { ranked: last.ranked, rank: last.rank, repeated, ranks: before };
    }
    return rankMerged(lists, last, count, before, fresh);
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

/**
 * The ranking of strings of which some were ranked last time (`count`: how often each was seen, 0
 * for one now gone; `before`: each place's last rank, -1 for a string the last ranking lacked) and
 * the rest are `fresh`: the two sorted runs merged, which is the order a sort of all gives (distinct
 * strings, code unit order), without sorting what was sorted last time.
 */
function rankMerged(
  lists: readonly RankedList[],
  last: Ranking,
  count: Uint8Array,
  before: Int32Array[],
  fresh: string[],
): Ranking & { repeated: Set<string>; ranks: Int32Array[] } {
  fresh.sort();
  const ranked: string[] = [];
  const repeated = new Set<string>();
  const rank = new Map<string, number>();
  const renumbered = new Int32Array(count.length);
  const add = (s: string) => {
    rank.set(s, ranked.length);
    ranked.push(s);
  };
  let r = 0;
  let j = 0;
  for (;;) {
    while (r < count.length && count[r] === 0) r += 1;
    const old = r < count.length ? (last.ranked[r] as string) : undefined;
    const next = j < fresh.length ? (fresh[j] as string) : undefined;
    if (old === undefined && next === undefined) break;
    // A fresh string is never one the last ranking had, so the two are never equal.
    if (next === undefined || (old !== undefined && old < next)) {
      renumbered[r] = ranked.length;
      if (count[r] === 2) repeated.add(old as string);
      add(old as string);
      r += 1;
    } else {
      add(next);
      j += 1;
      while (j < fresh.length && fresh[j] === next) {
        repeated.add(next);
        j += 1;
      }
    }
  }
  lastRanking = { ranked, rank };
  const ranks = lists.map((list, l) => {
    const was = before[l] as Int32Array;
    const into = new Int32Array(was.length);
    let i = 0;
    for (const s of list) {
      const b = was[i] as number;
      into[i++] = b >= 0 ? (renumbered[b] as number) : (rank.get(s) ?? 0);
    }
    return into;
  });
  return { ranked, rank, repeated, ranks };
}
