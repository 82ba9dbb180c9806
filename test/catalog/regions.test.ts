import { describe, expect, it } from "vitest";
import { normaliseRegion, parseCloud, parseFeatures, REGIONS } from "../../catalog";

describe("regions", () => {
  it.each([
    ["AzureCloud", "westeurope", "westeurope"],
    ["AzureCloud", "West Europe", "westeurope"],
    ["AzureChinaCloud", "chinaeast2", "chinaeast2"],
    ["AzureUSGovernment", "US Gov Virginia", "usgovvirginia"],
  ] as const)("accepts %s %s", (cloud, value, expected) => {
    expect(normaliseRegion(cloud, value)).toBe(expected);
  });

  it("suggests the closest names for a typo", () => {
    expect(() => normaliseRegion("AzureCloud", "westeurop")).toThrow(
      /unknown region "westeurop".*Did you mean: westeurope/,
    );
  });

  it("says when a region belongs to another cloud", () => {
    expect(() => normaliseRegion("AzureCloud", "chinaeast2")).toThrow(
      /"chinaeast2" is a region of AzureChinaCloud, not of AzureCloud/,
    );
  });

  it("keeps each cloud's regions apart", () => {
    const all = Object.values(REGIONS).flat();
    expect(new Set(all).size).toBe(all.length);
  });
});

describe("clouds and features", () => {
  it("reads clouds case-insensitively and names the valid ones otherwise", () => {
    expect(parseCloud("azurechinacloud")).toBe("AzureChinaCloud");
    expect(() => parseCloud("AzureGermany")).toThrow(
      /Valid clouds: AzureCloud, AzureChinaCloud, AzureUSGovernment/,
    );
  });

  it("reads comma lists, drops base and duplicates, rejects unknown ids with a suggestion", () => {
    expect(parseFeatures(["gpu,windows", "base", "gpu"])).toEqual(["gpu", "windows"]);
    expect(() => parseFeatures(["windwos"])).toThrow(/unknown feature "windwos". Did you mean: windows/);
  });
});
