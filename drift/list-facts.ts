// What planning needs to know of each source list the managed group writes: its JSON text (the
// canonical text, hash and size check are mostly these lists) and whether canonicalList would keep it
// as it is. Both depend on the list's strings alone, so a warm host, which writes the same lists pass
// after pass, finds them from the last passes: looked up by a hash of the list and then compared item
// by item against a private copy, so an equal list is the only thing that ever finds an entry.
import { isCanonicalList } from "./normalise";
import type { RuleCollectionGroup } from "./types";

export interface ListFacts {
  /** JSON.stringify(list). */
  text: string;
  /** canonicalList would give the list back as it is (for "sourceAddresses"). */
  canonical: boolean;
}

interface Entry extends ListFacts {
  /** The list's strings when the entry was made: a copy no caller holds. */
  items: readonly string[];
}

/** Entries by hash, from this and recent plans; bounded by the strings they hold. */
let kept = new Map<number, Entry[]>();
let keptItems = 0;
const ITEMS_KEPT = 1_000_000;

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The facts of a list of strings. `hash` is any function of the list's content the caller has at
 * hand (it only picks which entries to compare with).
 */
export function factsOf(list: readonly string[], hash: number): ListFacts {
  const candidates = kept.get(hash);
  if (candidates !== undefined)
    for (const entry of candidates) if (sameItems(entry.items, list)) return entry;
  const entry: Entry = {
    items: list.slice(),
    text: JSON.stringify(list),
    canonical: isCanonicalList("sourceAddresses", list),
  };
  if (keptItems + list.length > ITEMS_KEPT) {
    kept = new Map();
    keptItems = 0;
  }
  keptItems += list.length;
  if (candidates !== undefined && kept.get(hash) === candidates) candidates.push(entry);
  else kept.set(hash, [entry]);
  return entry;
}

/** The lists of a group desiredGroup made, with their facts, for planPolicy to take over. */
const byGroup = new WeakMap<RuleCollectionGroup, ReadonlyMap<readonly string[], ListFacts>>();

export function recordLists(
  group: RuleCollectionGroup,
  lists: ReadonlyMap<readonly string[], ListFacts>,
): void {
  byGroup.set(group, lists);
}

/**
 * The facts of the group's source lists, as desiredGroup recorded them; only for a group no one
 * could have changed since (planPolicy reads them right after desiredGroup returns).
 */
export function listsOf(group: RuleCollectionGroup): ReadonlyMap<readonly string[], ListFacts> | undefined {
  return byGroup.get(group);
}
