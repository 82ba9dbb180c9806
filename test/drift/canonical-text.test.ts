// planPolicy normalises and serialises each group once (canonicalText) and hashes, compares and
// diffs from that; the text must be exactly what canonicalJson(normaliseGroup(group)) gives, so that
// plan hashes and the content hash of a group read back stay what they were.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  normaliseGroup,
  type PlanInput,
  planHash,
  type RuleCollectionGroup,
  sha256Hex,
} from "../../drift";
import { canonicalText } from "../../drift/normalise";

const ROOT = path.resolve(__dirname, "../golden/drift");
const groups: [string, RuleCollectionGroup][] = readdirSync(ROOT, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .flatMap((entry) => {
    const input = JSON.parse(readFileSync(path.join(ROOT, entry.name, "input.json"), "utf8")) as PlanInput;
    return input.policy.groups.map((g): [string, RuleCollectionGroup] => [`${entry.name}/${g.name}`, g]);
  });

describe("canonicalText", () => {
  it("has groups to check", () => {
    expect(groups.length).toBeGreaterThanOrEqual(10);
  });

  it.each(groups)("is canonicalJson(normaliseGroup(group)) for %s", (_, group) => {
    expect(canonicalText(group).text).toBe(canonicalJson(normaliseGroup(group)));
    expect(canonicalText(group).pieces.join("")).toBe(canonicalJson(normaliseGroup(group)));
    expect(planHash(group)).toBe(sha256Hex(canonicalJson(normaliseGroup(group))));
  });

  it("is so for collections the REST spec allows without priority or type, and odd names", () => {
    const group = {
      name: "G",
      priority: 300,
      ruleCollections: [
        { name: 'q"uote', rules: [{ ruleType: "NetworkRule", name: "N", destinationPorts: ["22", "443"] }] },
        { ruleCollectionType: "FirewallPolicyFilterRuleCollection", name: "b", priority: 200, rules: [] },
        {
          ruleCollectionType: "FirewallPolicyFilterRuleCollection",
          name: "a",
          priority: 100,
          action: { type: "deny" },
        },
      ],
    } as unknown as RuleCollectionGroup;
    expect(canonicalText(group).text).toBe(canonicalJson(normaliseGroup(group)));
    expect(canonicalText(group).pieces.join("")).toBe(canonicalJson(normaliseGroup(group)));
  });

  it("keeps each collection's and rule's text for the diff, by lower-cased name", () => {
    const group = groups[0]?.[1];
    if (group === undefined) throw new Error("no group");
    const text = canonicalText(group);
    for (const c of normaliseGroup(group).ruleCollections) {
      const kept = text.collections.get(c.name);
      expect(kept?.text).toBe(canonicalJson(c));
      for (const r of c.rules) expect(kept?.rules.get(String(r.name))).toBe(canonicalJson(r));
    }
  });
});
