// The tables people copy from: every host, link and path must be there whole, never cut with "…".
import { describe, expect, it } from "vitest";
import { table, widths } from "../../cli/format/text";
import { runCli } from "../helpers/cli";

/** The cell texts of a rendered table's body, each cell's lines joined (a wrapped token rejoined). */
function cellsOf(rendered: string): string[][] {
  const rows: string[][] = [];
  let current: string[] | undefined;
  for (const line of rendered.split("\n")) {
    if (line.startsWith("+")) {
      if (current !== undefined) rows.push(current);
      current = undefined;
      continue;
    }
    const cells = line
      .slice(1, -1)
      .split("|")
      .map((c) => c.trim());
    current = current === undefined ? cells : current.map((c, i) => `${c}${cells[i] ?? ""}`);
  }
  return rows;
}

const LINK =
  "http://127.0.0.1:7071/api/approvals/1-8f0d2c1e9a7b4c3d?policy=%2Fsubscriptions%2F00000000-0000-0000-0000-000000000001%2FresourceGroups%2Frg-network-weu&sig=Zm9vYmFyYmF6cXV4";

describe("table", () => {
  it("keeps a host longer than its column whole, on one line, by widening the column", () => {
    const host = "*.hcp.usgovvirginia.cx.aks.containerservice.azure.us";
    const text = table(["Destination", "Purpose"], [[host, "Node <-> API server"]], widths(120, [32]));
    expect(text).not.toContain("…");
    expect(text.split("\n").some((l) => l.includes(` ${host} `))).toBe(true);
    expect(Math.max(...text.split("\n").map((l) => l.length))).toBeLessThanOrEqual(120);
  });

  it("wraps what cannot fit (a link in a narrow last column) instead of cutting it", () => {
    const text = table(["Cloud", "Approval link"], [["AzureCloud", LINK]], [19, 60]);
    expect(text).not.toContain("…");
    expect(cellsOf(text)).toEqual([
      ["Cloud", "Approval link"],
      ["AzureCloud", LINK],
    ]);
  });

  it("wraps long words of prose too, and keeps short ones on word boundaries", () => {
    const purpose = `See ${LINK} for the approval; required for Microsoft Entra authentication.`;
    const text = table(["Feature", "Purpose"], [["base", purpose]], [10, 40]);
    expect(text).not.toContain("…");
    expect(cellsOf(text)[1]?.[1]?.replace(/\s+/g, "")).toBe(purpose.replace(/\s+/g, ""));
    expect(text).toContain("authentication.");
  });
});

describe("aks-egress rules tables", () => {
  it.each([
    ["AzureUSGovernment", "usgovvirginia", "*.hcp.usgovvirginia.cx.aks.containerservice.azure.us"],
    ["AzureChinaCloud", "chinaeast2", "*.tun.chinaeast2.cx.prod.service.azk8s.cn"],
  ])("%s: shows every host whole", (cloud, region, host) => {
    const run = runCli(["rules", "--cloud", cloud, "--region", region, "--features", "azure-monitor"]);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain("…");
    expect(run.stdout).toContain(` ${host} `);
    const json = JSON.parse(
      runCli([
        "rules",
        "--cloud",
        cloud,
        "--region",
        region,
        "--features",
        "azure-monitor",
        "--format",
        "json",
      ]).stdout,
    ) as { applicationRules: { targetFqdns: string[] }[]; networkRules: { destinationFqdns: string[] }[] };
    for (const h of [
      ...json.applicationRules.flatMap((r) => r.targetFqdns),
      ...json.networkRules.flatMap((r) => r.destinationFqdns),
    ])
      expect(run.stdout).toContain(` ${h} `);
  });

  it("lists catalog versions with their source paths, wrapped at a folder but never cut", () => {
    const run = runCli(["catalog", "list"]);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain("…");
    const table = run.stdout.split("\n\n")[0]?.split("\n").slice(1).join("\n") ?? "";
    const sources = cellsOf(table).map((row) => row.at(-1));
    expect(sources).toContainEqual(
      expect.stringContaining("../shared/reference/pages/2026-06-18-1bdcfff99.md"),
    );
    expect(run.stdout).toMatch(/\| \.\.\/shared\/reference\/pages\/ +\|\n.*\| 2026-06-18-1bdcfff99\.md +\|/);
  });
});
