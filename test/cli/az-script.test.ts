// `aks-egress rules --format az` writes a bash script: bash must parse it, shellcheck must pass it,
// and run against a stand-in `az` it must hand every value over exactly as the rule set has it.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RuleSet } from "../../catalog";
import { runCli } from "../helpers/cli";

const ALL_FEATURES =
  "ubuntu-updates,gpu,azure-monitor,azure-policy,windows,pod-api-access,defender,keyvault-secrets-provider,cost-analysis,cluster-extensions,workload-identity,istio,application-routing";
const REGION = {
  AzureCloud: "westeurope",
  AzureChinaCloud: "chinaeast2",
  AzureUSGovernment: "usgovvirginia",
};

const cases: [string, string[]][] = [];
for (const [cloud, region] of Object.entries(REGION)) {
  const base = ["--cloud", cloud, "--region", region];
  cases.push([`${cloud} base, sources from $SOURCES`, base]);
  cases.push([
    `${cloud} every feature, --sources`,
    [...base, "--features", ALL_FEATURES, "--sources", "10.240.0.0/16,10.241.0.0/16"],
  ]);
}
cases.push(
  [
    "AzureCloud 2020-01-22 with parameters, a group name to quote",
    [
      "--cloud",
      "AzureCloud",
      "--region",
      "eastus",
      "--catalog",
      "2020-01-22",
      "--features",
      "pod-api-access,dev-spaces,gpu,windows",
      "--param",
      "apiServerIp=20.50.1.10",
      "--param",
      "dnsServers=10.0.0.4,10.0.0.5",
      "--group-name",
      "team's egress $HOME",
      "--group-priority",
      "4000",
    ],
  ],
  [
    "AzureCloud 2023-06 private cluster",
    [
      "--cloud",
      "AzureCloud",
      "--region",
      "westeurope",
      "--catalog",
      "2023-06",
      "--private-cluster",
      "--features",
      "azure-monitor,defender",
      "--sources",
      "10.1.0.0/24",
    ],
  ],
);

/** Fails (never skips) when shellcheck is missing, saying how to get it. */
function shellcheckVersion(): string {
  const probe = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      "shellcheck is not installed, and the az script tests need it: install the Debian package " +
        "`shellcheck` (`sudo apt-get install -y shellcheck`; `.ci/run` does this when it is missing).",
    );
  }
  return probe.stdout;
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-egress-az-"));
  // A stand-in for the Azure CLI: records each call, one argument a line, calls separated by a blank line.
  fs.mkdirSync(path.join(dir, "bin"));
  fs.writeFileSync(
    path.join(dir, "bin", "az"),
    '#!/usr/bin/env bash\nprintf "%s\\n" "$@" >> "$AZ_LOG"\nprintf "\\n" >> "$AZ_LOG"\n',
    { mode: 0o755 },
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Each az call's arguments, as the script passed them. */
function calls(log: string): string[][] {
  return log
    .split("\n\n")
    .filter((c) => c !== "")
    .map((c) => c.split("\n"));
}

/** The values after `flag` up to the next flag. */
function valuesOf(args: readonly string[], flag: string): string[] {
  const start = args.indexOf(flag);
  if (start < 0) return [];
  const end = args.findIndex((a, i) => i > start && a.startsWith("--"));
  return args.slice(start + 1, end < 0 ? undefined : end);
}

describe("aks-egress rules --format az", () => {
  it("has shellcheck to check with", () => {
    expect(shellcheckVersion()).toMatch(/version: \d/);
  });

  it.each(cases)("%s: parses with bash -n, passes shellcheck, runs as written", (name, args) => {
    shellcheckVersion();
    const run = runCli(["rules", ...args, "--format", "az"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const script = path.join(dir, `${name.replace(/[^A-Za-z0-9]+/g, "-")}.sh`);
    fs.writeFileSync(script, run.stdout);

    const parse = spawnSync("bash", ["-n", script], { encoding: "utf8" });
    expect(parse.stderr).toBe("");
    expect(parse.status).toBe(0);

    const lint = spawnSync("shellcheck", ["--norc", "--shell=bash", "--severity=style", script], {
      encoding: "utf8",
    });
    expect(lint.stdout + lint.stderr).toBe("");
    expect(lint.status).toBe(0);

    const rules = JSON.parse(runCli(["rules", ...args, "--format", "json"]).stdout) as RuleSet;
    const log = path.join(dir, `${path.basename(script)}.log`);
    for (const host of rules.applicationRules.flatMap((r) => r.targetFqdns).filter((h) => h.startsWith("*")))
      fs.writeFileSync(path.join(dir, `glob-trap${host.slice(1)}`), "");
    const sources = args.includes("--sources")
      ? (args[args.indexOf("--sources") + 1] ?? "").split(",")
      : ["10.9.0.0/22", "10.9.4.0/22"];
    const executed = spawnSync("bash", [script], {
      cwd: dir, // holds files a stray glob such as *.azk8s.cn could match, if quoting were wrong
      encoding: "utf8",
      env: {
        PATH: `${path.join(dir, "bin")}:${process.env.PATH}`,
        AZ_LOG: log,
        RESOURCE_GROUP: "rg-network",
        FIREWALL_POLICY: "fw-policy",
        ...(args.includes("--sources") ? {} : { SOURCES: sources.join(" ") }),
      },
    });
    expect(executed.stderr).toBe("");
    expect(executed.status).toBe(0);
    const made = calls(fs.readFileSync(log, "utf8"));
    expect(made).toHaveLength(1 + rules.networkRules.length + rules.applicationRules.length);
    const group = args.includes("--group-name") ? args[args.indexOf("--group-name") + 1] : "aks-egress-guard";
    expect(made[0]).toContain(group);
    const ruleCalls = made.slice(1);
    // The first rule of a collection comes with the collection (`--rule-name`), the others alone (`--name`).
    expect(ruleCalls.map((c) => valuesOf(c, "--rule-name")[0] ?? valuesOf(c, "--name")[0])).toEqual([
      ...rules.networkRules.map((r) => r.name),
      ...rules.applicationRules.map((r) => r.name),
    ]);
    for (const c of ruleCalls) expect(valuesOf(c, "--source-addresses")).toEqual(sources);
    for (const [i, r] of rules.applicationRules.entries()) {
      const c = ruleCalls[rules.networkRules.length + i] ?? [];
      expect(valuesOf(c, "--target-fqdns")).toEqual(r.targetFqdns);
      expect(valuesOf(c, "--description")).toEqual([r.description]);
    }
  });

  it("refuses to run without the resource group, policy and sources it needs", () => {
    const run = runCli(["rules", "--cloud", "AzureCloud", "--region", "westeurope", "--format", "az"]);
    const script = path.join(dir, "needs.sh");
    fs.writeFileSync(script, run.stdout);
    const executed = spawnSync("bash", [script], {
      encoding: "utf8",
      env: { PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, AZ_LOG: path.join(dir, "needs.log") },
    });
    expect(executed.status).not.toBe(0);
    expect(executed.stderr).toMatch(
      /RESOURCE_GROUP: set RESOURCE_GROUP to the resource group of the firewall policy/,
    );
    expect(fs.existsSync(path.join(dir, "needs.log"))).toBe(false);
  });
});
