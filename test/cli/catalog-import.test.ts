// `aks-egress catalog import` as a user runs it: the built CLI in a subprocess.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type Catalog, catalogSchema } from "../../catalog";
import { runCli } from "../helpers/cli";
import { SHARED } from "../helpers/paths";

const PAGES = path.join(SHARED, "reference", "pages");
const NEWEST = path.join(PAGES, "2026-06-18-1bdcfff99.md");

type Printed = Catalog & {
  lines: Record<string, number>;
  review: { line: number; text: string; reason: string }[];
};

describe("aks-egress catalog import", () => {
  it("prints the newest page as a catalog version with an empty review (issue 11's done-criterion)", () => {
    const run = runCli(["catalog", "import", NEWEST, "--format", "json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as Printed;
    expect(Object.keys(printed)).toEqual([
      "version",
      "title",
      "document",
      "remarks",
      "entries",
      "lines",
      "review",
    ]);
    expect(printed.review).toEqual([]);
    const { lines: _, review: __, ...catalog } = printed;
    expect(() => catalogSchema.parse(catalog)).not.toThrow();
    // The file name gives the commit date and commit: the page's version and its reference.
    expect(printed.version).toBe("2026-06");
    expect(printed.document).toMatchObject({
      date: "2026-06-18",
      reference: "commit 1bdcfff99, ms.date 06/18/2026",
    });
    const packages = printed.entries.find(
      (e) =>
        e.destination.kind === "fqdn" &&
        e.destination.host === "packages.aks.azure.com" &&
        e.clouds.includes("AzureCloud"),
    );
    expect(printed.lines[packages!.id]).toBe(76);
  });

  it("takes --version (the tool's own --version stays at the top level)", () => {
    const run = runCli([
      "catalog",
      "import",
      path.join(PAGES, "2024-06-14-a2148a2b1.md"),
      "--version",
      "2024-06",
      "--format",
      "json",
    ]);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as Printed).version).toBe("2024-06");
    expect(runCli(["--version"]).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("prints a table by default, with the count of rows to review", () => {
    const run = runCli(["catalog", "import", path.join(PAGES, "2023-03-09-82dbc720e.md")]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^Catalog version 2023-03 from .*2023-03-09-82dbc720e\.md \(page of 2023-03-09\): 71 entries, 0 row\(s\) to review/,
    );
    expect(run.stdout).toContain("acs-mirror.azureedge.net");
  });

  it("lists the rows it could not read, with their lines", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-egress-import-"));
    const page = path.join(dir, "page.md");
    const newest = fs.readFileSync(NEWEST, "utf8");
    fs.writeFileSync(
      page,
      newest.replace(
        "| **`snapshot.ubuntu.com`** | **`HTTPS:443`** |",
        "| **`snapshot.ubuntu.com`** | **`HTTPS:fast`** |",
      ),
    );
    try {
      const json = runCli(["catalog", "import", page, "--format", "json"]);
      expect(json.code).toBe(0);
      const printed = JSON.parse(json.stdout) as Printed;
      expect(printed.review).toEqual([
        {
          line: 138,
          text: expect.stringContaining("snapshot.ubuntu.com"),
          reason: 'cannot read the port "HTTPS:fast"',
        },
      ]);
      expect(printed.version).toBe("2026-06"); // from ms.date: the file name is not a reference page's
      const text = runCli(["catalog", "import", page]);
      expect(text.stdout).toContain("1 row(s) to review");
      expect(text.stdout).toContain('line 138: cannot read the port "HTTPS:fast"');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      "a missing file",
      [path.join(PAGES, "no-such-page.md")],
      /cannot read the page .*no-such-page\.md: no such file/,
    ],
    ["a directory", [PAGES], /cannot read the page .*: it is a directory/],
    [
      "a page that is not the AKS outbound-rules page",
      [path.join(PAGES, "README.md")],
      /not an AKS outbound-rules page/,
    ],
    ["a bad --version", [NEWEST, "--version", "latest"], /version "latest" is not YYYY-MM or YYYY-MM-DD/],
  ])("exits 2 for %s, with a message", (_, args, message) => {
    const run = runCli(["catalog", "import", ...args]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
  });
});
