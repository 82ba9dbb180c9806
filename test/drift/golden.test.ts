// Runs every folder of test/golden/drift: input.json ({clusters, policy, settings}) must plan to
// expected-plan.json and format to expected-plan.txt. UPDATE_GOLDEN=1 rewrites the expected files;
// read every rewritten file before committing it.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatPlan, type PlanInput, planPolicy } from "../../drift";

const ROOT = path.resolve(__dirname, "../golden/drift");
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const cases = readdirSync(ROOT, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

function readInput(name: string): PlanInput {
  return JSON.parse(readFileSync(path.join(ROOT, name, "input.json"), "utf8")) as PlanInput;
}

function check(file: string, actual: string): void {
  if (UPDATE || !existsSync(file)) {
    if (!UPDATE) throw new Error(`missing ${file}; run with UPDATE_GOLDEN=1 and read what it writes`);
    writeFileSync(file, actual);
    return;
  }
  expect(actual).toBe(readFileSync(file, "utf8"));
}

describe("golden plans", () => {
  it("has the cases the drift engine promises", () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  describe.each(cases)("%s", (name) => {
    it("plans as expected", () => {
      const plan = planPolicy(readInput(name));
      check(path.join(ROOT, name, "expected-plan.json"), `${JSON.stringify(plan, null, 2)}\n`);
    });

    it("formats as expected", () => {
      check(path.join(ROOT, name, "expected-plan.txt"), formatPlan(planPolicy(readInput(name))));
    });

    it("is deterministic and idempotent: applying the body leaves no drift", () => {
      const input = readInput(name);
      const plan = planPolicy(input);
      expect(JSON.stringify(planPolicy(readInput(name)))).toBe(JSON.stringify(plan));
      if (plan.body === undefined) return;
      const managed = input.settings.groupName.toLowerCase();
      const groups = [...input.policy.groups.filter((g) => g.name.toLowerCase() !== managed), plan.body];
      const again = planPolicy({ ...input, policy: { ...input.policy, groups } });
      expect(again.action).toBe("none");
      expect(again.changes).toEqual([]);
      expect(again.hash).toBe(plan.hash);
    });
  });
});
