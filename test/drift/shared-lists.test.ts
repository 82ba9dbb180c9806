// The shared layout repeats a few long source lists over many rules, and planning takes shortcuts for
// them: a list already canonical is kept as it is, and each list is serialised or counted once. The
// shortcuts must give exactly what the plain computation gives.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  networkPairs,
  normaliseGroup,
  normaliseRule,
  type RuleBody,
  type RuleCollectionGroup,
  rulesSize,
} from "../../drift";
import { canonicalText } from "../../drift/normalise";

/** Sources as the service or a person may write them: casing, spaces, duplicates, empties, non-ASCII. */
const source = fc.oneof(
  fc.nat(40).map((n) => `10.0.${n}.0/24`),
  fc.constantFrom(
    "*",
    "",
    " 10.0.3.0/24",
    "AzureCloud.WestEurope",
    "azurecloud.westeurope",
    "10.0.4.0 /24",
    "fd00::/64",
    "FD00::/64",
    "é.example",
  ),
);
const lists = fc.array(source, { maxLength: 40, size: "max" });

/** The list as desiredGroup writes one: trimmed, lower-cased, unique and sorted. */
const canonical = (list: readonly string[]) =>
  [...new Set(list.map((s) => s.trim().toLowerCase()).filter((s) => s !== ""))].sort();

/** A group whose rules share list objects, as desiredGroup writes them. */
const groups = fc
  .tuple(fc.array(lists, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }))
  .map(([given, picks]): RuleCollectionGroup => {
    // Half the lists as the app writes them (the shortcuts' case), half as given.
    const shared = given.map((list, i) => (i % 2 === 0 ? canonical(list) : list));
    const rules: RuleBody[] = picks.map((p, i) => {
      const sources = shared[p % shared.length] ?? [];
      return i % 2 === 0
        ? {
            ruleType: "NetworkRule",
            name: `net-${i}`,
            ipProtocols: ["TCP"],
            sourceAddresses: sources,
            destinationAddresses: [`AzureCloud.Region${p % 3}`, "10.9.0.0/16"],
            destinationPorts: ["443"],
          }
        : {
            ruleType: "ApplicationRule",
            name: `app-${i}`,
            sourceAddresses: sources,
            protocols: [{ protocolType: "Https", port: 443 }],
            targetFqdns: [`host-${p}.example.com`],
          };
    });
    return {
      name: "g",
      priority: 300,
      ruleCollections: [
        {
          ruleCollectionType: "FirewallPolicyFilterRuleCollection",
          name: "c",
          priority: 100,
          action: { type: "Allow" },
          rules,
        },
      ],
    };
  });

describe("lists already in canonical form", () => {
  it("normalise as any reordering or repetition of them does", () => {
    fc.assert(
      fc.property(lists, (sources) => {
        const rule = (list: string[]): RuleBody => ({
          ruleType: "NetworkRule",
          name: "r",
          sourceAddresses: list,
        });
        const canonical = normaliseRule(rule(sources)).sourceAddresses;
        const again = Array.isArray(canonical) ? (canonical as string[]) : [];
        // The canonical list, as given, takes the shortcut; reversed and doubled, it does not.
        for (const variant of [again, [...again].reverse(), [...again, ...again], sources])
          expect(canonicalJson(normaliseRule(rule(variant)))).toBe(
            canonicalJson(normaliseRule(rule(sources))),
          );
      }),
      { numRuns: 300 },
    );
  });

  it("give canonicalText the text of canonicalJson(normaliseGroup(group))", () => {
    fc.assert(
      fc.property(groups, (group) => {
        expect(canonicalText(group).text).toBe(canonicalJson(normaliseGroup(group)));
      }),
      { numRuns: 200 },
    );
  });
});

describe("limits over shared lists", () => {
  it("measure the bytes JSON.stringify gives, with or without the canonical texts", () => {
    fc.assert(
      fc.property(groups, (group) => {
        const bytes = new TextEncoder().encode(JSON.stringify(group.ruleCollections)).length;
        expect(rulesSize(group)).toBe(bytes);
        expect(rulesSize(group, canonicalText(group).lists)).toBe(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it("count each unique lower-cased (source, destination) pair once", () => {
    fc.assert(
      fc.property(groups, (group) => {
        const pairs = new Set<string>();
        for (const rule of group.ruleCollections.flatMap((c) => c.rules ?? []))
          if (rule.ruleType === "NetworkRule")
            for (const d of rule.destinationAddresses ?? [])
              for (const s of rule.sourceAddresses ?? []) pairs.add(`${s.toLowerCase()}\n${d.toLowerCase()}`);
        expect(networkPairs(group)).toBe(pairs.size);
      }),
      { numRuns: 200 },
    );
  });
});
