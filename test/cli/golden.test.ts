// Golden cases for `aks-egress rules`: each folder holds the arguments and the exact expected output.
// Regenerate with UPDATE_GOLDEN=1 npm test, then read the diff before committing it.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { catalogVersions } from "../../catalog";
import { runCli } from "../helpers/cli";
import { ROOT } from "../helpers/paths";

const GOLDEN = path.join(ROOT, "test", "golden", "rules");
const update = process.env.UPDATE_GOLDEN === "1";

const cases = fs
  .readdirSync(GOLDEN)
  .filter((d) => fs.statSync(path.join(GOLDEN, d)).isDirectory())
  .sort();

describe("aks-egress rules golden cases", () => {
  it("has cases for every catalog version and cloud", () => {
    for (const version of catalogVersions()) {
      for (const cloud of ["azurecloud", "azurechinacloud", "azureusgovernment"]) {
        expect(
          cases.filter((c) => c.startsWith(`${version}-${cloud}-`)).length,
          `${version} ${cloud}`,
        ).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it.each(cases)("%s", (name) => {
    const dir = path.join(GOLDEN, name);
    const args = JSON.parse(fs.readFileSync(path.join(dir, "args.json"), "utf8")) as string[];
    const expectedFile = path.join(dir, args.includes("json") ? "expected.json" : "expected.txt");
    const run = runCli(["rules", ...args], { COLUMNS: "120" });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    if (update) fs.writeFileSync(expectedFile, run.stdout);
    expect(run.stdout).toBe(fs.readFileSync(expectedFile, "utf8"));
  });
});
