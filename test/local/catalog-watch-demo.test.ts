// The catalog watch end to end, locally (issue 11, part 3): the page server serves Microsoft's page as
// published in February 2025 and then in June 2026 (../shared/reference/pages), the app runs with
// catalog 2025-02 and its watch pointed there, and the CloudEvents reach the emulated notification
// topic. Then the same through `npm start`'s program, as a user sees it. Needs ../shared beside the
// project (as in CI): without it these tests fail, saying so.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findPages, type PageServer, startPageServer } from "../../local/page-server";
import type { CatalogChangedData } from "../../orchestrations/catalog-watch";
import { ROOT, SHARED } from "../helpers/paths";
import { startApp } from "../orchestrations/app-harness";

const PAGES = path.join(SHARED, "reference", "pages");
const CHANGED = "AksEgressGuard.CatalogChanged";

/** The two page versions; without ../shared each test fails (not skipped), saying why. */
function pageFiles(): string[] {
  if (!fs.existsSync(PAGES))
    throw new Error(
      `${PAGES} is missing: these tests need ../shared beside the project (as CI lays it out), for the page versions 2025-02-06-f998eb20c.md and 2026-06-18-1bdcfff99.md`,
    );
  return findPages(PAGES, ["2025-02-", "2026-06-18-1bdcfff99"]);
}

describe("catalog watch demo (local page server → app → notification topic)", () => {
  it("2025-02's page matches catalog 2025-02; June 2026's is one CatalogChanged event; unchanged, a 304 and nothing", async () => {
    const files = pageFiles();
    const statuses: number[] = [];
    const pages: PageServer = await startPageServer({ files, onFetch: (f) => statuses.push(f.status) });
    const app = await startApp({
      settings: { AKS_EGRESS_CATALOG_WATCH_URL: pages.url, AKS_EGRESS_CATALOG_VERSION: "2025-02" },
    });
    try {
      const changed = () => app.emulator.notifications().filter((e) => e.type === CHANGED);
      const outcomes = () =>
        app.logs.flatMap((l) =>
          l.kind === "log" && l.functionName === "catalogWatch" && l.message.startsWith("catalog watch: {")
            ? [JSON.parse(l.message.slice("catalog watch: ".length)) as { outcome: string }]
            : [],
        );
      const run = async () => {
        const response = await fetch(`${app.host.url}/admin/functions/catalogWatch`, {
          method: "POST",
          headers: { "x-functions-key": app.host.keys.master, "Content-Type": "application/json" },
          body: JSON.stringify({ input: "" }),
        });
        expect(response.status).toBe(202);
        await app.host.idle();
      };

      await run();
      expect(statuses).toEqual([200]);
      expect(outcomes()).toMatchObject([{ outcome: "matches", importedAs: "2025-02" }]);
      expect(changed()).toEqual([]);
      expect(app.events(CHANGED)).toEqual([]);

      const next = await fetch(`${pages.origin}/_next`, { method: "POST" });
      expect(await next.json()).toMatchObject({ advanced: true, current: "2026-06-18-1bdcfff99.md" });

      await run();
      expect(statuses).toEqual([200, 200]);
      expect(outcomes().at(-1)).toMatchObject({
        outcome: "changed",
        importedAs: "2026-06",
        changes: 2,
        published: true,
      });
      const events = changed();
      expect(events).toHaveLength(1);
      const event = events[0];
      expect(event?.source).toBeTruthy();
      expect(event?.subject).toBe("catalog/2025-02");
      const data = event?.data as unknown as CatalogChangedData;
      const body = fs.readFileSync(files[1] as string);
      const sha = createHash("sha256").update(body).digest("hex");
      expect(data).toMatchObject({
        url: pages.url,
        etag: `"${sha}"`,
        pageDate: "2026-06-18",
        importedAs: "2026-06",
        catalogVersion: "2025-02",
        cloud: "AzureCloud",
        adoption: "notify",
        counts: { added: 2, removed: 0, changed: 0, total: 2 },
        changesLeftOut: 0,
      });
      // What Microsoft added to the page between February 2025 and June 2026 (`npx aks-egress catalog
      // diff 2025-02 2026-06`, AzureCloud).
      expect(
        data.changes.map((c) => `${c.change} ${c.feature} ${c.destination} ${c.after?.join(",")}`),
      ).toEqual([
        "added azure-monitor *.in.applicationinsights.azure.com HTTPS:443",
        "added defender *.cloud.defender.microsoft.com HTTPS:443",
      ]);
      expect(app.events(CHANGED)).toEqual([
        expect.objectContaining({
          pageDate: "2026-06-18",
          catalogVersion: "2025-02",
          counts: data.counts,
          sentTo: "notification topic",
        }),
      ]);

      // Nothing changed since: the watch asks with the ETag, gets a 304 and publishes nothing.
      await run();
      expect(statuses).toEqual([200, 200, 304]);
      expect(outcomes().at(-1)).toMatchObject({ outcome: "not-modified" });
      expect(changed()).toHaveLength(1);
      expect(app.events(CHANGED)).toHaveLength(1);
      const results = app.logs.flatMap((l) =>
        l.kind === "invocation" && l.functionName === "catalogWatch" ? [l.result] : [],
      );
      expect(results).toEqual(["Succeeded", "Succeeded", "Succeeded"]);
    } finally {
      await app.close();
      await pages.close();
    }
  }, 90_000);

  it("npm start serves the pages itself and prints the match, then the change and the approval it asks for", async () => {
    pageFiles();
    if (fs.existsSync(path.join(ROOT, "local.settings.json")))
      throw new Error("local.settings.json exists in the project: it may repoint the watch; move it away");
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-egress-catalog-demo-"));
    const child = spawn(
      process.execPath,
      [
        path.join(ROOT, "dist", "local", "runtime", "start.js"),
        ...["--cloud", "AzureChinaCloud", "--base-port", "0", "--state-dir", stateDir, "--no-sweep"],
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    const printed = async (pattern: RegExp, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`npm start did not print ${pattern}; it printed:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await printed(/Keeps serving/);
      expect(out).toMatch(
        /Catalog watch: every app reads Microsoft's page from http:\/\/127\.0\.0\.1:\d+ \(2025-02-06-f998eb20c\.md, then 2026-06-18-1bdcfff99\.md\), compares it with catalog 2025-02 \(adoption approve\), schedule 0 \* \* \* \* \*\./,
      );
      const runtime = JSON.parse(fs.readFileSync(path.join(stateDir, "runtime.json"), "utf8")) as {
        clouds: { url: string }[];
        keys: { master: string };
      };
      // The schedule fires every minute; runs on demand make the test quicker (any run will do).
      const run = async () => {
        const response = await fetch(`${runtime.clouds[0]?.url}/admin/functions/catalogWatch`, {
          method: "POST",
          headers: { "x-functions-key": runtime.keys.master, "Content-Type": "application/json" },
          body: JSON.stringify({ input: "" }),
        });
        expect(response.status).toBe(202);
      };
      await run();
      await printed(/\[AzureChinaCloud\] catalog: page matches 2025-02; nothing to report\n/);
      // Microsoft edits the page when the user says so, as the line at the start tells them.
      const nextPage =
        /to publish Microsoft's next edit, run: curl -s -X POST (http:\/\/127\.0\.0\.1:\d+\/_next)/.exec(
          out,
        )?.[1];
      if (nextPage === undefined) throw new Error(`npm start did not say how to move the page on:\n${out}`);
      expect((await fetch(nextPage, { method: "POST" })).status).toBe(200);
      await printed(/catalog: the page server now serves 2026-06-18-1bdcfff99\.md/);
      await run();
      await printed(
        /\[AzureChinaCloud\] catalog: Microsoft's page \(2026-06-18\) differs from catalog 2025-02: 4 added, 0 removed, 0 changed; first: added base \*\.data\.mcr\.azure\.cn HTTPS:443, added base mcr\.azure\.cn HTTPS:443, added azure-monitor \*\.in\.applicationinsights\.azure\.com HTTPS:443, … \(see the notification topic; offered to each policy, which plans with it and asks a person\)\n/,
      );
      // The policy plans with the page and asks a person (AKS_EGRESS_CATALOG_ADOPTION=approve): its
      // approval link arrives on the notification topic (with --no-sweep nothing else asks).
      await printed(
        /\[AzureChinaCloud\] fw-hub-chinaeast2: waiting for approval: http:\/\/127\.0\.0\.1:\d+\/api\/approvals\//,
      );
      const lines = out.split("\n");
      const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
      expect(at(/catalog: page matches/)).toBeLessThan(at(/catalog: the page server now serves/));
      expect(at(/catalog: the page server now serves/)).toBeLessThan(at(/catalog: Microsoft's page/));
      expect(at(/catalog: Microsoft's page/)).toBeLessThan(at(/waiting for approval/));
    } finally {
      child.kill("SIGTERM");
      const code = await closed;
      fs.rmSync(stateDir, { recursive: true, force: true });
      expect(err).toBe("");
      expect(code).toBe(0);
    }
  }, 120_000);
});
