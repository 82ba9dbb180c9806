// The catalog watch (issue 11, part 3, notify): versions of Microsoft's page served from a local HTTP
// server, the notification topic stood in for by the ARM emulator's. No network.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CatalogStore, memoryCatalogStore } from "../../azure/catalog-store";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import {
  CATALOG_CHANGED_TYPE,
  type CatalogChangedData,
  WATCH_DOCUMENT,
  type WatchOptions,
  watchCatalog,
} from "../../orchestrations/catalog-watch";
import { DEFAULT_CATALOG_WATCH_URL, loadSettings } from "../../orchestrations/settings";
import { SHARED } from "../helpers/paths";
import { POLICY_ID as POLICY_ID_SMALL, SMALL_ESTATE } from "../local/arm-emulator-helpers";
import { startApp } from "./app-harness";

const POLICY =
  "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-net/providers/Microsoft.Network/firewallPolicies/fw";
const page = (name: string) => fs.readFileSync(path.join(SHARED, "reference", "pages", name), "utf8");
const PAGE_2025_02 = page("2025-02-06-f998eb20c.md");
const PAGE_2026_06 = page("2026-06-18-1bdcfff99.md");
/** A section no judgement maps to a feature: its row goes to `review`. */
const PAGE_WITH_REVIEW = `${PAGE_2026_06}\n\n## Azure Quantum Widgets\n\n| Destination FQDN | Port | Use |\n|---|---|---|\n| \`widgets.example.com\` | **\`HTTPS:443\`** | Widgets. |\n`;

interface Served {
  status: number;
  body: string;
  etag?: string;
}

/** Serves `current`, honouring If-None-Match against its ETag; records each request's If-None-Match. */
class PageServer {
  current: Served = { status: 404, body: "" };
  readonly requests: (string | undefined)[] = [];
  readonly server = http.createServer((req, res) => {
    const ifNoneMatch = req.headers["if-none-match"];
    this.requests.push(typeof ifNoneMatch === "string" ? ifNoneMatch : undefined);
    const { status, body, etag } = this.current;
    if (etag !== undefined && ifNoneMatch === etag && status === 200) {
      res.writeHead(304, { etag });
      res.end();
      return;
    }
    res.writeHead(status, {
      "content-type": "text/plain; charset=utf-8",
      ...(etag !== undefined ? { etag } : {}),
    });
    res.end(body);
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/articles/aks/outbound-rules-control-egress.md`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

class Lines {
  readonly lines: { level: string; text: string }[] = [];
  info = (...args: unknown[]) => this.lines.push({ level: "info", text: args.join(" ") });
  warn = (...args: unknown[]) => this.lines.push({ level: "warn", text: args.join(" ") });
  error = (...args: unknown[]) => this.lines.push({ level: "error", text: args.join(" ") });
  events(name: string): Record<string, unknown>[] {
    return this.lines
      .filter((l) => l.text.startsWith(`${name} `))
      .map((l) => JSON.parse(l.text.slice(l.text.indexOf("{"))) as Record<string, unknown>);
  }
}

let emulator: ArmEmulator;
let pages: PageServer;
let url: string;

beforeAll(async () => {
  emulator = await startArmEmulator({ seedFile: SMALL_ESTATE });
  pages = new PageServer();
  url = await pages.start();
});
afterAll(async () => {
  await pages.close();
  await emulator.close();
});

function settingsFor(catalogVersion: string, extra: Record<string, string> = {}) {
  return loadSettings({
    AKS_EGRESS_FIREWALL_POLICIES: POLICY,
    AKS_EGRESS_APPROVAL_SIGNING_KEY: "k".repeat(40),
    AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
    AKS_EGRESS_CATALOG_WATCH_SCHEDULE: "0 30 5 * * *",
    AKS_EGRESS_CATALOG_WATCH_URL: url,
    AKS_EGRESS_CATALOG_VERSION: catalogVersion,
    AKS_EGRESS_NOTIFICATION_TOPIC_ENDPOINT: emulator.topicEndpoint,
    AKS_EGRESS_NOTIFICATION_TOPIC_KEY: "test-topic-key",
    AKS_EGRESS_ARM_CA_FILE: emulator.caFile,
    ...extra,
  });
}

/** Options for runs that are not about policies: a store of their own, no estate read. */
const quiet = (store: CatalogStore): WatchOptions => ({ store, impacts: async () => [] });
/** What the watch recorded as seen. */
const seenBy = async (options: WatchOptions) => (await options.store?.read(WATCH_DOCUMENT))?.value;

const changedEvents = () => emulator.notifications().filter((e) => e.type === CATALOG_CHANGED_TYPE);

describe("catalog watch settings", () => {
  const base = {
    AKS_EGRESS_FIREWALL_POLICIES: POLICY,
    AKS_EGRESS_APPROVAL_SIGNING_KEY: "k".repeat(40),
    AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
  };

  it("defaults to notify and Microsoft's page on GitHub", () => {
    const settings = loadSettings(base);
    expect(settings.catalogAdoption).toBe("notify");
    expect(settings.catalogWatchUrl).toBe(DEFAULT_CATALOG_WATCH_URL);
  });

  it("approve needs a catalog store; a bad adoption, schedule or URL is refused", () => {
    expect(() => loadSettings({ ...base, AKS_EGRESS_CATALOG_ADOPTION: "approve" })).toThrow(
      /AKS_EGRESS_CATALOG_ADOPTION="approve" needs AKS_EGRESS_CATALOG_STORE_URL/,
    );
    expect(
      loadSettings({
        ...base,
        AKS_EGRESS_CATALOG_ADOPTION: "Approve",
        AKS_EGRESS_CATALOG_STORE_URL: "https://acct.blob.core.windows.net/catalog-watch",
      }).catalogAdoption,
    ).toBe("approve");
    expect(() => loadSettings({ ...base, AKS_EGRESS_CATALOG_ADOPTION: "auto" })).toThrow(
      /AKS_EGRESS_CATALOG_ADOPTION="auto": expected one of notify, approve/,
    );
    expect(() => loadSettings({ ...base, AKS_EGRESS_CATALOG_WATCH_SCHEDULE: "daily" })).toThrow(
      /AKS_EGRESS_CATALOG_WATCH_SCHEDULE="daily": expected a six-field NCRONTAB/,
    );
    expect(() =>
      loadSettings({ ...base, AKS_EGRESS_CATALOG_WATCH_URL: "ftp://example.com/page.md" }),
    ).toThrow(/AKS_EGRESS_CATALOG_WATCH_URL/);
    expect(loadSettings({ ...base, AKS_EGRESS_CATALOG_ADOPTION: "Notify" }).catalogAdoption).toBe("notify");
  });
});

describe("catalog watch (handler)", () => {
  it("2025-02 then 2026-06 against 2023-06: two changes reported, the same page again is a 304", async () => {
    const watch = quiet(memoryCatalogStore());
    const log = new Lines();
    const settings = settingsFor("2023-06");
    const before = changedEvents().length;

    pages.current = { status: 200, body: PAGE_2025_02, etag: '"page-2025-02"' };
    const first = await watchCatalog(settings, log, watch);
    expect(first).toMatchObject({ outcome: "changed", importedAs: "2025-02", published: true });
    expect(pages.requests.at(-1)).toBeUndefined();
    const events = changedEvents().slice(before);
    expect(events).toHaveLength(1);
    const data = events[0]?.data as unknown as CatalogChangedData;
    expect(events[0]).toMatchObject({ source: "/aks-egress-guard", subject: "catalog/2023-06" });
    expect(data).toMatchObject({ catalogVersion: "2023-06", cloud: "AzureCloud", adoption: "notify", url });
    expect(data.changes).toContainEqual(
      expect.objectContaining({
        change: "added",
        cloud: "AzureCloud",
        feature: "base",
        destination: "packages.aks.azure.com",
        after: ["HTTPS:443"],
      }),
    );
    expect(data.counts.total).toBe(data.changes.length);
    const [trace] = log.events("AksEgressGuard.CatalogChanged");
    expect(trace).toMatchObject({
      catalogVersion: "2023-06",
      importedAs: "2025-02",
      counts: data.counts,
      sentTo: "notification topic",
    });
    expect((trace?.firstChanges as string[] | undefined)?.length).toBeLessThanOrEqual(5);
    expect(JSON.stringify(trace).length).toBeLessThan(4000);

    // The same page: If-None-Match with its ETag, 304, nothing reported.
    const again = await watchCatalog(settings, log, watch);
    expect(again).toEqual({ outcome: "not-modified" });
    expect(pages.requests.at(-1)).toBe('"page-2025-02"');
    expect(changedEvents().slice(before)).toHaveLength(1);
    expect(log.events("AksEgressGuard.CatalogChanged")).toHaveLength(1);

    // The page moves on to 2026-06: a new difference from 2023-06, reported.
    pages.current = { status: 200, body: PAGE_2026_06, etag: '"page-2026-06"' };
    const third = await watchCatalog(settings, log, watch);
    expect(third).toMatchObject({ outcome: "changed", importedAs: "2026-06" });
    expect(pages.requests.at(-1)).toBe('"page-2025-02"');
    const latest = changedEvents().slice(before);
    expect(latest).toHaveLength(2);
    const changes = (latest[1]?.data as unknown as CatalogChangedData | undefined)?.changes;
    expect(changes).toContainEqual(
      expect.objectContaining({ change: "added", destination: "*.in.applicationinsights.azure.com" }),
    );
    expect(await seenBy(watch)).toMatchObject({ etag: '"page-2026-06"' });
  });

  it("2025-02 in use: its own page matches, 2026-06 reports what it adds", async () => {
    const watch = quiet(memoryCatalogStore());
    const log = new Lines();
    const settings = settingsFor("2025-02");
    const before = changedEvents().length;

    pages.current = { status: 200, body: PAGE_2025_02, etag: '"a"' };
    expect(await watchCatalog(settings, log, watch)).toEqual({
      outcome: "matches",
      importedAs: "2025-02",
    });
    expect(changedEvents().length).toBe(before);

    pages.current = { status: 200, body: PAGE_2026_06, etag: '"b"' };
    expect(await watchCatalog(settings, log, watch)).toMatchObject({ outcome: "changed", changes: 2 });
    const data = changedEvents().at(-1)?.data as unknown as CatalogChangedData;
    expect(data.changes.map((c) => `${c.change} ${c.feature} ${c.destination}`)).toEqual([
      "added azure-monitor *.in.applicationinsights.azure.com",
      "added defender *.cloud.defender.microsoft.com",
    ]);
    expect(log.events("AksEgressGuard.CatalogChanged")[0]?.firstChanges).toEqual([
      "added AzureCloud azure-monitor *.in.applicationinsights.azure.com HTTPS:443",
      "added AzureCloud defender *.cloud.defender.microsoft.com HTTPS:443",
    ]);
  });

  it("two runs at once (the schedule's and one on demand): the difference is reported once", async () => {
    const store = memoryCatalogStore();
    const settings = settingsFor("2025-02");
    const before = changedEvents().length;
    pages.current = { status: 200, body: PAGE_2026_06, etag: '"both"' };
    const outcomes = await Promise.all([
      watchCatalog(settings, new Lines(), quiet(store)),
      watchCatalog(settings, new Lines(), quiet(store)),
    ]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(["already-reported", "changed"]);
    expect(changedEvents().length).toBe(before + 1);
  });

  it("a server without ETags: the same text again is not compared or reported again", async () => {
    const watch = quiet(memoryCatalogStore());
    const log = new Lines();
    const settings = settingsFor("2025-02");
    const before = changedEvents().length;
    pages.current = { status: 200, body: PAGE_2026_06 };
    expect(await watchCatalog(settings, log, watch)).toMatchObject({ outcome: "changed" });
    expect(await watchCatalog(settings, log, watch)).toEqual({ outcome: "same-page" });
    expect(pages.requests.at(-1)).toBeUndefined();
    expect(changedEvents().length).toBe(before + 1);
  });

  it("a 500, an unreadable page, a page with rows to review, no server: reported, nothing changed", async () => {
    const watch = quiet(memoryCatalogStore());
    const log = new Lines();
    const settings = settingsFor("2023-06");
    pages.current = { status: 200, body: PAGE_2025_02, etag: '"seen"' };
    await watchCatalog(settings, log, watch);
    const seen = await seenBy(watch);
    const before = changedEvents().length;

    const cases: [Served, string, RegExp][] = [
      [{ status: 500, body: "oops" }, "fetch", /HTTP 500/],
      [
        { status: 200, body: "<html><body>Too many requests</body></html>", etag: '"x"' },
        "read",
        /not an AKS outbound-rules page/,
      ],
      [{ status: 200, body: PAGE_WITH_REVIEW, etag: '"y"' }, "review", /1 row\(s\) of the page need review/],
    ];
    for (const [served, stage, reason] of cases) {
      pages.current = served;
      const outcome = await watchCatalog(settings, log, watch);
      expect(outcome).toMatchObject({ outcome: "failed", stage, reason: expect.stringMatching(reason) });
      // Still asked with the last ETag successfully read: the failure changed nothing.
      expect(pages.requests.at(-1)).toBe('"seen"');
      expect(await seenBy(watch)).toEqual(seen);
    }
    const failures = log.lines.filter((l) => l.text.startsWith("AksEgressGuard.CatalogWatchFailed "));
    expect(failures.map((l) => l.level)).toEqual(["warn", "warn", "warn"]);
    expect(log.events("AksEgressGuard.CatalogWatchFailed")[2]).toMatchObject({
      stage: "review",
      review: [expect.objectContaining({ reason: expect.stringMatching(/maps to no feature/) })],
    });

    const unreachable = await watchCatalog(
      { ...settings, catalogWatchUrl: "http://127.0.0.1:9/page.md" },
      log,
      quiet(memoryCatalogStore()),
    );
    expect(unreachable).toMatchObject({ outcome: "failed", stage: "fetch" });
    expect(changedEvents().length).toBe(before);
  });

  it("without a notification topic: traced, said to be sent nowhere", async () => {
    const log = new Lines();
    const settings = settingsFor("2023-06", { AKS_EGRESS_NOTIFICATION_TOPIC_ENDPOINT: "" });
    pages.current = { status: 200, body: PAGE_2026_06, etag: '"n"' };
    expect(await watchCatalog(settings, log, quiet(memoryCatalogStore()))).toMatchObject({
      outcome: "changed",
      published: false,
    });
    expect(log.events("AksEgressGuard.CatalogChanged")[0]).toMatchObject({
      sentTo: "nowhere: no notification topic is set",
    });
  });
});

describe("catalog watch (through the local Functions host)", () => {
  it("runs the catalogWatch timer on demand and publishes the change", async () => {
    pages.current = { status: 200, body: PAGE_2025_02, etag: '"host-2025-02"' };
    const app = await startApp({
      emulator,
      settings: { AKS_EGRESS_CATALOG_WATCH_URL: url, AKS_EGRESS_CATALOG_VERSION: "2023-06" },
    });
    try {
      const before = changedEvents().length;
      const run = async () => {
        const response = await fetch(`${app.host.url}/admin/functions/catalogWatch`, {
          method: "POST",
          body: JSON.stringify({ input: "" }),
          headers: { "x-functions-key": app.host.keys.master },
        });
        expect(response.status).toBe(202);
        await app.host.idle();
      };
      await run();
      expect(app.events("AksEgressGuard.CatalogChanged")).toEqual([
        expect.objectContaining({ catalogVersion: "2023-06", importedAs: "2025-02" }),
      ]);
      expect(changedEvents().length).toBe(before + 1);
      await run();
      expect(pages.requests.at(-1)).toBe('"host-2025-02"');
      expect(app.events("AksEgressGuard.CatalogChanged")).toHaveLength(1);
      expect(changedEvents().length).toBe(before + 1);
      const results = app.logs.flatMap((l) =>
        l.kind === "invocation" && l.functionName === "catalogWatch" ? [l.result] : [],
      );
      expect(results).toEqual(["Succeeded", "Succeeded"]);
      // The event says what the policy's clusters would gain (read from the emulated estate).
      const data = changedEvents().at(-1)?.data as unknown as CatalogChangedData;
      expect(data.policies).toEqual([
        expect.objectContaining({ policyId: POLICY_ID_SMALL, catalogInUse: "2023-06", clustersAffected: 1 }),
      ]);
    } finally {
      await app.close();
    }

    // What it saw is in the catalog store (the emulator's Blob service), not in the process.
    const saved = emulator.blobs.get("catalog-watch", WATCH_DOCUMENT);
    expect(JSON.parse(saved?.content.toString("utf8") ?? "{}")).toMatchObject({ etag: '"host-2025-02"' });
    // A restart (a new host, the same catalog store): it asks with the ETag it saw and reports nothing.
    const restarted = await startApp({
      emulator,
      settings: { AKS_EGRESS_CATALOG_WATCH_URL: url, AKS_EGRESS_CATALOG_VERSION: "2023-06" },
    });
    try {
      const before = changedEvents().length;
      const response = await fetch(`${restarted.host.url}/admin/functions/catalogWatch`, {
        method: "POST",
        body: JSON.stringify({ input: "" }),
        headers: { "x-functions-key": restarted.host.keys.master },
      });
      expect(response.status).toBe(202);
      await restarted.host.idle();
      expect(pages.requests.at(-1)).toBe('"host-2025-02"');
      expect(changedEvents().length).toBe(before);
    } finally {
      await restarted.close();
    }
  }, 60_000);
});
