// "Did you mean": prefix matches first, then by edit distance, at most five, and how to list them all.
import { describe, expect, it } from "vitest";
import { closest, OPTIONAL_FEATURES, REGIONS } from "../../catalog";
import { runCli } from "../helpers/cli";

describe("closest", () => {
  it.each([
    ["ubuntu", ["ubuntu-updates"], OPTIONAL_FEATURES],
    ["windwos", ["windows"], OPTIONAL_FEATURES],
    ["tpu", ["gpu"], OPTIONAL_FEATURES],
    ["keyvault", ["keyvault-secrets-provider"], OPTIONAL_FEATURES],
    ["monitor", ["azure-monitor"], OPTIONAL_FEATURES],
    ["westeuro", ["westeurope"], REGIONS.AzureCloud],
    ["west", ["westus", "westus2", "westus3", "westindia", "westeurope"], REGIONS.AzureCloud],
    ["chinaeast4", ["chinaeast", "chinaeast2", "chinaeast3"], REGIONS.AzureChinaCloud],
  ] as const)("%s → first %j", (value, expected, candidates) => {
    const found = closest(value, candidates);
    expect(found.slice(0, expected.length)).toEqual(expected);
    expect(found.length).toBeLessThanOrEqual(5);
  });

  it("never offers more than five, and nothing unrelated", () => {
    expect(closest("e", REGIONS.AzureCloud).length).toBeLessThanOrEqual(5);
    expect(closest("ubuntu", OPTIONAL_FEATURES)).not.toContain("gpu");
    expect(closest("zzzzzzzzzz", OPTIONAL_FEATURES)).toEqual([]);
  });
});

describe("aks-egress rules: suggestions", () => {
  it("a misspelled region gets at most five suggestions and the command that lists them all", () => {
    const run = runCli(["rules", "--cloud", "AzureCloud", "--region", "westeuro"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/unknown region "westeuro" for AzureCloud\. Did you mean: westeurope[,?]/);
    const offered = /Did you mean: ([^?]*)\?/.exec(run.stderr)?.[1]?.split(", ") ?? [];
    expect(offered.length).toBeGreaterThan(0);
    expect(offered.length).toBeLessThanOrEqual(5);
    expect(run.stderr).not.toContain("australiacentral");
    expect(run.stderr).toContain("aks-egress catalog regions --cloud AzureCloud");
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("a feature's prefix suggests the feature", () => {
    const run = runCli(["rules", "--cloud", "AzureCloud", "--region", "westeurope", "--features", "ubuntu"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown feature "ubuntu"\. Did you mean: ubuntu-updates\?/);
    expect(run.stderr).toMatch(/Valid features: ubuntu-updates, gpu, .*application-routing/);
  });

  it("catalog regions lists every region of a cloud, or of all clouds", () => {
    const one = runCli(["catalog", "regions", "--cloud", "azurecloud"]);
    expect(one.code).toBe(0);
    for (const region of REGIONS.AzureCloud) expect(one.stdout).toContain(region);
    expect(one.stdout).not.toContain("chinaeast2");
    const all = runCli(["catalog", "regions", "--format", "json"]);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual(REGIONS);
    expect(runCli(["catalog", "regions", "--cloud", "moon"]).code).toBe(2);
  });
});
