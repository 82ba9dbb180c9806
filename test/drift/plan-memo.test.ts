// Planning remembers a few things from one plan to the next (sort-hints.ts, list-facts.ts): the
// order of the last clusters and sources, and the text of the last source lists. What is remembered
// may only make a plan faster: a changed input must get exactly what a fresh computation gives, and
// nothing a caller does to a plan it was handed may reach the next one.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ClusterProfile, clusterKey, type Plan, planPolicy, sha256Hex } from "../../drift";
import { sha256HexOfPiecesKept } from "../../drift/canonical";
import { factsOf } from "../../drift/list-facts";
import { isCanonicalList } from "../../drift/normalise";
import { keyedOrder, rankStrings, stableOrder } from "../../drift/sort-hints";
import { cluster, policy, settings } from "./fixtures";

/** Few distinct texts, so that calls share, repeat and reorder them. */
const text = fc.oneof(
  fc.constantFrom("a", "b", "B", "ab", "a ", "", "10.0.1.0/24", "10.0.10.0/24", "é", "*"),
  fc.string({ maxLength: 3 }),
);
const texts = fc.array(text, { maxLength: 12 });

function plainOrder(keys: readonly string[]): number[] {
  return keys
    .map((key, i) => ({ key, i }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i))
    .map((e) => e.i);
}

describe("sort hints", () => {
  it("give a stable sort's order, whatever the calls before", () => {
    fc.assert(
      fc.property(fc.array(texts, { minLength: 1, maxLength: 8 }), (calls) => {
        // Each input also comes again, and shuffled: what the hint sees in a warm host.
        for (const keys of calls.flatMap((k) => [k, k, [...k].reverse()]))
          expect([...stableOrder(keys)]).toEqual(plainOrder(keys));
      }),
    );
  });

  it("key IDs and order them as clusterKey and a stable sort do, whatever the calls before", () => {
    const id = fc.oneof(
      fc.constantFrom("/A", "/a", " /a", "/b", "/B ", "/c", ""),
      fc.string({ maxLength: 3 }),
    );
    fc.assert(
      fc.property(fc.array(fc.array(id, { maxLength: 10 }), { minLength: 1, maxLength: 8 }), (calls) => {
        // Also with an ID added, one changed and one dropped: the last order merged with a few sorted.
        const edits = (k: string[]) => [
          k,
          k,
          [...k].reverse(),
          k.slice(1),
          [...k, "/new", "/A"],
          k.map((x, i) => (i === k.length >> 1 ? `${x}z` : x)),
          k.slice(0, -1),
        ];
        for (const ids of calls.flatMap(edits)) {
          const { keys, order, distinct } = keyedOrder(ids.map((i) => ({ id: i })));
          const expected = ids.map(clusterKey);
          expect(keys).toEqual(expected);
          expect([...order]).toEqual(plainOrder(expected));
          expect(distinct).toBe(new Set(expected).size === expected.length);
        }
      }),
    );
  });

  it("rank the distinct strings as a sort does, and find those named twice", () => {
    fc.assert(
      fc.property(fc.array(fc.array(texts, { maxLength: 4 }), { minLength: 1, maxLength: 6 }), (calls) => {
        // Also with a string added and one gone: known ranks merged with the new strings sorted.
        const edits = (l: string[][]) => [
          l,
          l,
          l.slice(1),
          [...l].reverse(),
          l.map((x, i) => (i === 0 ? [...x, "zz", "0"] : x)),
          l.map((x) => x.slice(1)),
        ];
        for (const lists of calls.flatMap(edits)) {
          const every = lists.flat();
          const ranked = [...new Set(every)].sort();
          const ranking = rankStrings(lists.map((l) => new Set(l)).concat(lists));
          expect(ranking.ranked).toEqual(ranked);
          expect([...ranking.rank]).toEqual(ranked.map((s, i) => [s, i]));
          // Each list given twice above: every string is named more than once.
          expect([...ranking.repeated]).toEqual(ranked);
          // Each list's strings by rank, in its order.
          ranking.ranks.forEach((ranks, i) => {
            const list = [...(i < lists.length ? new Set(lists[i]) : (lists[i - lists.length] ?? []))];
            expect([...ranks]).toEqual(list.map((s) => ranked.indexOf(s)));
          });
          const once = rankStrings(lists.map((l) => [...new Set(l)]));
          const twice = ranked.filter((s) => lists.filter((l) => l.includes(s)).length > 1);
          expect([...once.repeated]).toEqual(twice);
        }
      }),
    );
  });
});

describe("kept hashes", () => {
  it("are the hash of the pieces' text, whatever was hashed before", () => {
    const piece = fc.constantFrom("{", "}", "a", "ab", '["10.0.0.0/8"]', "é", "", ",");
    fc.assert(
      fc.property(fc.array(fc.array(piece, { maxLength: 6 }), { minLength: 1, maxLength: 12 }), (calls) => {
        for (const pieces of [...calls, ...calls.reverse()])
          expect(sha256HexOfPiecesKept(pieces)).toBe(sha256Hex(pieces.join("")));
      }),
    );
  });

  it("are not changed by a caller changing the pieces afterwards", () => {
    const pieces = ["{", '"a"', "}"];
    expect(sha256HexOfPiecesKept(pieces)).toBe(sha256Hex(pieces.join("")));
    pieces[1] = '"b"';
    expect(sha256HexOfPiecesKept(pieces)).toBe(sha256Hex(pieces.join("")));
  });
});

describe("list facts", () => {
  it("are the list's JSON and canonicality, even when another list had the same hash", () => {
    fc.assert(
      fc.property(fc.array(texts, { minLength: 1, maxLength: 10 }), (lists) => {
        for (const list of [...lists, ...lists]) {
          // One hash for every list: only the comparison of items tells them apart.
          const facts = factsOf(list, 7);
          expect(facts.text).toBe(JSON.stringify(list));
          expect(facts.canonical).toBe(isCanonicalList("sourceAddresses", list));
        }
      }),
    );
  });

  it("are not changed by a caller changing the list afterwards", () => {
    const list = ["10.0.1.0/24", "10.0.2.0/24"];
    expect(factsOf(list, 1).text).toBe(JSON.stringify(list));
    list.push("10.0.3.0/24");
    expect(factsOf(list, 1).text).toBe(JSON.stringify(list));
    list[0] = "10.0.0.0/24";
    expect(factsOf(list, 1).text).toBe(JSON.stringify(list));
  });
});

function fleet(n: number, subnet = (i: number) => `10.${i >> 8}.${i & 255}.0/24`): ClusterProfile[] {
  const regions = ["westeurope", "northeurope", "eastus"];
  const features = [[], ["azure-monitor"], ["gpu", "azure-policy"]] as const;
  return Array.from({ length: n }, (_, i) =>
    cluster(`aks-${String(i).padStart(3, "0")}`, {
      region: regions[i % 3] ?? "westeurope",
      features: [...(features[Math.floor(i / 3) % 3] ?? [])],
      nodeSubnets: i % 4 === 3 ? [subnet(i), `10.200.${i}.0/24`] : [subnet(i)],
    }),
  );
}

const plan = (clusters: ClusterProfile[]): Plan =>
  planPolicy({ clusters: structuredClone(clusters), policy: policy([]), settings });

describe("planning the same policy again", () => {
  const base = fleet(60);
  const variants: [string, ClusterProfile[]][] = [
    ["as before", base],
    ["listed in reverse", [...base].reverse()],
    [
      "one subnet more",
      base.map((c, i) => (i === 17 ? { ...c, nodeSubnets: [...c.nodeSubnets, "10.99.0.0/24"] } : c)),
    ],
    ["one subnet moved", base.map((c, i) => (i === 5 ? { ...c, nodeSubnets: ["10.98.0.0/24"] } : c))],
    ["one cluster fewer", base.slice(1)],
    [
      "one cluster listed twice",
      [...base, { ...(base[0] as ClusterProfile), id: base[0]?.id.toUpperCase() ?? "" }],
    ],
    [
      "subnets swapped between two clusters",
      base.map((c, i) =>
        i === 1
          ? { ...c, nodeSubnets: base[2]?.nodeSubnets ?? [] }
          : i === 2
            ? { ...c, nodeSubnets: base[1]?.nodeSubnets ?? [] }
            : c,
      ),
    ],
  ];

  it("gives each input the plan it gets in any order of plans before it", () => {
    const first = variants.map(([, clusters]) => JSON.stringify(plan(clusters)));
    // Again, each after a different plan (what a warm host remembers differs every time).
    for (const [i, [name, clusters]] of [...variants.entries()].reverse()) {
      expect(JSON.stringify(plan(clusters)), name).toBe(first[i]);
      expect(JSON.stringify(plan(clusters)), `${name}, twice`).toBe(first[i]);
    }
    // A change always shows: every variant's plan differs from the unchanged one's, but the reversed list.
    for (const [i, [name]] of variants.entries()) if (i > 1) expect(first[i], name).not.toBe(first[0]);
  });

  it("is not changed by what a caller does to the plan it was handed", () => {
    const expected = JSON.stringify(plan(base));
    const handed = plan(base);
    for (const c of handed.body?.ruleCollections ?? [])
      for (const r of c.rules ?? []) {
        if ("sourceAddresses" in r && Array.isArray(r.sourceAddresses)) {
          r.sourceAddresses.push("10.250.0.0/24");
          r.sourceAddresses.reverse();
        }
      }
    handed.affectedClusters.reverse();
    for (const g of handed.clusterChanges.groups) g.gains.pop();
    expect(JSON.stringify(plan(base))).toBe(expected);
  });
});
