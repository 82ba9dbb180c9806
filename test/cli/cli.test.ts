// The CLI as a user runs it: a subprocess, its exit code, its two streams.
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { RuleSet } from "../../catalog";
import { runCli } from "../helpers/cli";
import { SHARED } from "../helpers/paths";

describe("aks-egress rules", () => {
  it("prints DESIGN §4's JSON object with exactly its fields", () => {
    const run = runCli([
      "rules",
      "--cloud",
      "AzureUSGovernment",
      "--region",
      "usgovvirginia",
      "--features",
      "gpu,windows",
      "--catalog",
      "2020-01-22",
      "--format",
      "json",
    ]);
    expect(run.code).toBe(0);
    const rules = JSON.parse(run.stdout) as RuleSet;
    expect(Object.keys(rules)).toEqual([
      "catalog",
      "cloud",
      "region",
      "features",
      "applicationRules",
      "networkRules",
      "unresolved",
    ]);
    expect(rules).toMatchObject({
      catalog: "2020-01-22",
      cloud: "AzureUSGovernment",
      region: "usgovvirginia",
      features: ["base", "gpu", "windows"],
    });
    for (const a of rules.applicationRules)
      expect(Object.keys(a)).toEqual(["name", "feature", "description", "targetFqdns", "protocols"]);
    for (const n of rules.networkRules)
      expect(Object.keys(n)).toEqual([
        "name",
        "feature",
        "description",
        "ipProtocols",
        "destinationAddresses",
        "destinationFqdns",
        "destinationPorts",
      ]);
    for (const u of rules.unresolved) expect(Object.keys(u)).toEqual(["feature", "entry", "reason"]);
    expect(rules.applicationRules.flatMap((a) => a.targetFqdns)).toContain("apt.dockerproject.org");
    expect(rules.networkRules.flatMap((n) => n.destinationFqdns)).toContain("kms.core.windows.net");
  });

  it("prints a table a person can read by default", () => {
    const run = runCli(["rules", "--cloud", "AzureCloud", "--region", "westeurope", "--features", "gpu"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^Egress rules for AzureCloud \/ westeurope - catalog 2026-06 - features: base, gpu/,
    );
    expect(run.stdout).toMatch(/Application rules \(\d+\)/);
    expect(run.stdout).toContain("nvidia.github.io");
  });

  it("opens packages.aks.azure.com by default (the newest edition of Microsoft's page)", () => {
    const run = runCli(["rules", "--cloud", "AzureCloud", "--region", "westeurope", "--format", "json"]);
    expect(run.code).toBe(0);
    const rules = JSON.parse(run.stdout) as {
      catalog: string;
      applicationRules: { targetFqdns: string[] }[];
    };
    expect(rules.catalog).toBe("2026-06");
    expect(rules.applicationRules.flatMap((a) => a.targetFqdns)).toContain("packages.aks.azure.com");
  });

  it.each([
    [
      ["--cloud", "AzureGermany", "--region", "x"],
      /unknown cloud "AzureGermany". Valid clouds: AzureCloud, AzureChinaCloud, AzureUSGovernment/,
    ],
    [
      ["--cloud", "AzureCloud", "--region", "westeurop"],
      /unknown region "westeurop" for AzureCloud\. Did you mean: westeurope/,
    ],
    [["--cloud", "AzureCloud", "--region", "usgovtexas"], /"usgovtexas" is a region of AzureUSGovernment/],
    [
      ["--cloud", "AzureCloud", "--region", "eastus", "--features", "gpu,tpu"],
      /unknown feature "tpu".*Valid features: ubuntu-updates, gpu/,
    ],
    [
      ["--cloud", "AzureCloud", "--region", "eastus", "--catalog", "2021"],
      /unknown catalog version "2021". Valid versions: 2020-01-22, 2020-02-29, 2023-06, 2025-02, 2026-06/,
    ],
    [
      ["--cloud", "AzureCloud", "--region", "eastus", "--format", "yaml"],
      /argument 'yaml' is invalid. Allowed choices are table, json, bicep, az/,
    ],
    [
      ["--cloud", "AzureCloud", "--region", "eastus", "--param", "apiServerIp=1.2.3"],
      /bad value "1.2.3" for parameter apiServerIp/,
    ],
    [
      ["--cloud", "AzureCloud", "--region", "eastus", "--format", "bicep", "--sources", "*"],
      /bad --sources value "\*"/,
    ],
    [["--cloud", "AzureCloud", "--region", "eastus", "--group-priority", "99"], /bad --group-priority "99"/],
    [["--region", "eastus"], /required option '--cloud <cloud>' not specified/],
    [["--cloud", "AzureCloud", "--region", "eastus", "--colour"], /unknown option '--colour'/],
  ])("exits 2 naming the bad value: %j", (args, message) => {
    const run = runCli(["rules", ...args]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
  });

  it("has --help, which exits 0", () => {
    const run = runCli(["rules", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("--features <list>");
    expect(run.stdout).toContain("Examples:");
  });
});

describe("aks-egress catalog", () => {
  it("lists versions with source and date, clouds, features", () => {
    const run = runCli(["catalog", "list", "--format", "json"]);
    expect(run.code).toBe(0);
    const list = JSON.parse(run.stdout) as {
      default: string;
      versions: { version: string; date: string; source: string }[];
      clouds: string[];
    };
    expect(list.default).toBe("2026-06");
    expect(list.versions.map((v) => [v.version, v.date, v.source])).toEqual([
      ["2020-01-22", "2020-01-22", "seeds/004_1ab95b1dd17bd9c6.txt"],
      ["2020-02-29", "2020-02-29", "seeds/000_8fe9a0e44694373c.txt"],
      ["2023-06", "2023-06-13", "reference/pages/2023-06-13-2d1277dc0.md"],
      ["2025-02", "2025-02-06", "reference/pages/2025-02-06-f998eb20c.md"],
      ["2026-06", "2026-06-18", "reference/pages/2026-06-18-1bdcfff99.md"],
    ]);
    expect(runCli(["catalog", "list"]).stdout).toContain("2026-06 (default)");
  });

  it("diffs the two seeds to exactly what they disagree on, per cloud and feature", () => {
    const run = runCli(["catalog", "diff", "2020-01-22", "2020-02-29"]);
    expect(run.code).toBe(0);
    const lines = run.stdout
      .split("\n")
      .filter((l) => /^\S|^ {2}\S|^ {4}[-+~] /.test(l))
      .slice(3)
      .map((l) => l.replace(/\s+/g, " ").trimEnd());
    expect(lines).toEqual([
      "AzureCloud: 0 added, 2 removed, 0 changed",
      " base",
      " - *.blob.core.windows.net HTTPS:443",
      " - aksrepos.azurecr.io HTTPS:443",
      "AzureChinaCloud: 1 added, 1 removed, 0 changed",
      " base",
      " - *.chinacloudapi.cn HTTPS:443",
      " + login.chinacloudapi.cn HTTPS:443",
      "AzureUSGovernment: 0 added, 2 removed, 0 changed",
      " base",
      " - *.blob.core.windows.net HTTPS:443",
      " - aksrepos.azurecr.io HTTPS:443",
      "1 added, 5 removed, 0 changed.",
    ]);
  });

  it("lists what Microsoft changed between 2023-06 and 2026-06", () => {
    const run = runCli(["catalog", "diff", "2023-06", "2026-06", "--cloud", "AzureCloud"]);
    expect(run.code).toBe(0);
    const text = run.stdout.replace(/ +/g, " ");
    expect(text).toContain("AzureCloud: 20 added, 0 removed, 1 changed");
    expect(text).toContain(" + packages.aks.azure.com HTTPS:443\n");
    expect(text).toContain(" ~ AzureMonitor TCP:443 (now rendered, no longer an alternative)\n");
    expect(text).toContain(" + arcmktplaceprod.westeurope.data.azurecr.io HTTPS:443 (only in westeurope)\n");
    expect(text).toContain(" workload-identity\n + login.microsoftonline.com HTTPS:443\n");
  });

  it("diffs a version against a page file: its own page differs in nothing", () => {
    const page = path.join(SHARED, "reference/pages/2026-06-18-1bdcfff99.md");
    const same = runCli(["catalog", "diff", "2026-06", page]);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain("with the judgements of 2026-06\n");
    expect(same.stdout).toContain("No requirement differs.");
    const older = runCli([
      "catalog",
      "diff",
      path.join(SHARED, "reference/pages/2024-06-14-a2148a2b1.md"),
      "2026-06",
      "--format",
      "json",
    ]);
    expect(older.code).toBe(0);
    const diff = JSON.parse(older.stdout) as {
      changes: { change: string; cloud: string; feature: string; destination: string }[];
      pages: { judgements: string; unmatched: { kind: string }[]; review: unknown[] }[];
    };
    expect(diff.pages[0]).toMatchObject({ judgements: "2026-06", review: [] });
    expect(diff.pages[0]?.unmatched.length).toBeGreaterThan(0);
    expect(diff.changes).toContainEqual(
      expect.objectContaining({
        change: "added",
        cloud: "AzureCloud",
        feature: "base",
        destination: "packages.aks.azure.com",
      }),
    );
    expect(runCli(["catalog", "diff", "2026-06", "missing.md"])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/cannot read the page missing\.md: no such file/),
    });
  });

  it("narrows a diff to one cloud and shows port changes", () => {
    const run = runCli([
      "catalog",
      "diff",
      "2020-02-29",
      "2023-06",
      "--cloud",
      "AzureChinaCloud",
      "--format",
      "json",
    ]);
    expect(run.code).toBe(0);
    const diff = JSON.parse(run.stdout) as {
      clouds: string[];
      changes: { change: string; destination: string; before?: string[]; after?: string[] }[];
    };
    expect(diff.clouds).toEqual(["AzureChinaCloud"]);
    expect(diff.changes).toContainEqual(
      expect.objectContaining({ change: "removed", destination: "*.cdn.mscr.io" }),
    );
    expect(diff.changes).toContainEqual(
      expect.objectContaining({
        change: "changed",
        destination: "<API server>",
        before: ["TCP:22", "TCP:9000"],
        after: ["TCP:22", "TCP:9000", "UDP:1194"],
      }),
    );
  });

  it("exits 2 for an unknown version or cloud", () => {
    expect(runCli(["catalog", "diff", "2020-01-22", "nope"])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown catalog version "nope"/),
    });
    expect(runCli(["catalog", "diff", "2020-01-22", "2023-06", "--cloud", "moon"]).code).toBe(2);
    expect(runCli(["catalog", "diff", "2020-01-22"]).code).toBe(2);
  });
});
