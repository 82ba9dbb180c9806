// Indexes over Deny rules for the shadowing check: given one managed rule's ports or hosts, the Deny
// rules that can overlap them, without looking at the others. Each lookup returns exactly the Deny
// rules for which anyPortOverlap / anyHostOverlap (overlap.ts) holds, so the caller's checks decide
// nothing differently; they only run on fewer rules. Deny rules are named by their position.
import { byText } from "./canonical";

type Range = readonly [number, number];

/** Deny rules by destination port: single ports looked up by range, wider ranges scanned. */
export interface PortIndex {
  single: Map<number, number[]>;
  /** Keys of `single`, ascending, so that a range query is a binary search. */
  ports: number[];
  wide: { from: number; to: number; deny: number }[];
}

export function portIndex(entries: readonly { deny: number; ranges: readonly Range[] }[]): PortIndex {
  const single = new Map<number, number[]>();
  const wide: PortIndex["wide"] = [];
  for (const { deny, ranges } of entries) {
    for (const [from, to] of ranges) {
      if (from !== to) wide.push({ from, to, deny });
      else {
        const at = single.get(from);
        if (at === undefined) single.set(from, [deny]);
        else if (at[at.length - 1] !== deny) at.push(deny);
      }
    }
  }
  return { single, ports: [...single.keys()].sort((a, b) => a - b), wide };
}

/** Adds every Deny rule with a port range that overlaps one of `ranges`. */
export function collectPorts(index: PortIndex, ranges: readonly Range[], into: Set<number>): void {
  for (const [from, to] of ranges) {
    let lo = 0;
    let hi = index.ports.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((index.ports[mid] ?? 0) < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < index.ports.length; i++) {
      const port = index.ports[i] ?? 0;
      if (port > to) break;
      for (const deny of index.single.get(port) ?? []) into.add(deny);
    }
    for (const w of index.wide) if (w.from <= to && from <= w.to) into.add(w.deny);
  }
}

/**
 * Deny rules by host pattern, following hostsOverlap: "*" meets everything, equal patterns meet,
 * "*x" meets whatever ends with "x". Hosts are trimmed and lower-cased as hostsOverlap does.
 */
export interface HostIndex {
  /** Every Deny rule with at least one host: what our "*" meets. */
  withHosts: number[];
  /** Deny rules with "*": they meet any host of ours. */
  star: number[];
  exact: Map<string, number[]>;
  /** Wildcards by what follows the "*": found from our host's suffixes. */
  suffix: Map<string, number[]>;
  /** Plain hosts and wildcard suffixes, reversed and sorted: "ends with" becomes a prefix range. */
  reversed: { key: string; deny: number }[];
}

function push(map: Map<string, number[]>, key: string, deny: number): void {
  const at = map.get(key);
  if (at === undefined) map.set(key, [deny]);
  else if (at[at.length - 1] !== deny) at.push(deny);
}

/** Code-unit reversal, the unit endsWith and byText work in. */
function reverse(text: string): string {
  return text.split("").reverse().join("");
}

export function hostIndex(entries: readonly { deny: number; hosts: readonly string[] }[]): HostIndex {
  const index: HostIndex = { withHosts: [], star: [], exact: new Map(), suffix: new Map(), reversed: [] };
  for (const { deny, hosts } of entries) {
    if (hosts.length > 0) index.withHosts.push(deny);
    for (const host of hosts) {
      const y = host.trim().toLowerCase();
      if (y === "*") {
        if (index.star[index.star.length - 1] !== deny) index.star.push(deny);
        continue;
      }
      push(index.exact, y, deny);
      const body = y.startsWith("*") ? y.slice(1) : y;
      if (body !== y) push(index.suffix, body, deny);
      index.reversed.push({ key: reverse(body), deny });
    }
  }
  index.reversed.sort((a, b) => byText(a.key, b.key));
  return index;
}

/** Adds every Deny rule with a host pattern that overlaps one of `hosts`. */
export function collectHosts(index: HostIndex, hosts: readonly string[], into: Set<number>): void {
  if (hosts.length === 0) return;
  for (const deny of index.star) into.add(deny);
  for (const host of hosts) {
    const x = host.trim().toLowerCase();
    if (x === "*") {
      for (const deny of index.withHosts) into.add(deny);
      continue;
    }
    for (const deny of index.exact.get(x) ?? []) into.add(deny);
    // Their "*y" meets our host, or our "*x", when y is a suffix of it.
    const body = x.startsWith("*") ? x.slice(1) : x;
    for (let i = 0; i < body.length; i++) {
      for (const deny of index.suffix.get(body.slice(i)) ?? []) into.add(deny);
    }
    if (body === x) continue;
    // Our "*x" meets their host or "*y" when that ends with x.
    const prefix = reverse(body);
    let lo = 0;
    let hi = index.reversed.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (byText(index.reversed[mid]?.key ?? "", prefix) < 0) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < index.reversed.length; i++) {
      const entry = index.reversed[i];
      if (entry === undefined || !entry.key.startsWith(prefix)) break;
      into.add(entry.deny);
    }
  }
}
