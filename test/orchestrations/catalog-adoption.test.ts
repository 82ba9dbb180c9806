// Adopting Microsoft's newer page with AKS_EGRESS_CATALOG_ADOPTION=approve, end to end: the watch reads
// the page from a local server, stores and offers it (catalog store: the emulator's Blob service),
// each policy plans with it and always asks a person, and the answer decides what later passes use.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ADOPTION_DOCUMENT } from "../../orchestrations/catalog-adoption";
import { CATALOG_CHANGED_TYPE, type CatalogChangedData } from "../../orchestrations/catalog-watch";
import { SHARED } from "../helpers/paths";
import { POLICY_ID } from "../local/arm-emulator-helpers";
import { type AppUnderTest, startApp } from "./app-harness";

const PAGE_2026_06 = fs.readFileSync(
  path.join(SHARED, "reference", "pages", "2026-06-18-1bdcfff99.md"),
  "utf8",
);
const clusterEvent = (id: string) => ({
  ...(JSON.parse(
    fs.readFileSync(path.join(__dirname, "..", "fixtures", "events", "cluster-write.eventgrid.json"), "utf8"),
  ) as Record<string, unknown>),
  id,
});

let pageUrl: string;
const server = http.createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8", etag: '"2026-06"' });
  res.end(PAGE_2026_06);
});
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  pageUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/outbound-rules-control-egress.md`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let app: AppUnderTest | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** An app whose clusters were synced with catalog 2023-06 (pass 1), watching a server with 2026-06. */
async function syncedApp(mode = "auto"): Promise<AppUnderTest> {
  const started = await startApp({
    settings: {
      AKS_EGRESS_MODE: mode,
      AKS_EGRESS_CATALOG_VERSION: "2023-06",
      AKS_EGRESS_CATALOG_ADOPTION: "approve",
      AKS_EGRESS_CATALOG_WATCH_URL: pageUrl,
    },
  });
  app = started;
  await started.sendEvents([clusterEvent("11111111-1111-4111-8111-111111111111")]);
  const first = await started.waitForPass(1);
  expect(first.last?.outcome).toBe(mode === "audit" ? "reported" : "applied");
  return started;
}

async function runWatch(a: AppUnderTest): Promise<void> {
  const response = await fetch(`${a.host.url}/admin/functions/catalogWatch`, {
    method: "POST",
    body: JSON.stringify({ input: "" }),
    headers: { "x-functions-key": a.host.keys.master },
  });
  expect(response.status).toBe(202);
}

async function adoptionRecord(a: AppUnderTest): Promise<Record<string, unknown>> {
  const doc = a.emulator.blobs.get("catalog-watch", ADOPTION_DOCUMENT);
  return JSON.parse(doc?.content.toString("utf8") ?? "{}") as Record<string, unknown>;
}

describe("catalog adoption (approve)", () => {
  it("offers the page, asks a person even in auto mode, shows where each rule comes from, adopts on approval", async () => {
    const a = await syncedApp();
    const putsBefore = a.successfulPuts();
    await runWatch(a);
    const waiting = await a.waitForPhase("awaiting-approval");
    expect(waiting.pendingApproval?.reasons[0]).toMatch(
      /adopting Microsoft's page 2026-06 in place of catalog 2023-06 needs a person's approval/,
    );

    // The CatalogChanged event says, per policy, what its clusters gain and lose.
    const event = a.emulator.notifications().find((e) => e.type === CATALOG_CHANGED_TYPE);
    const data = event?.data as unknown as CatalogChangedData;
    expect(data).toMatchObject({ adoption: "approve", offered: true, catalogVersion: "2023-06" });
    const impact = data.policies[0];
    expect(impact).toMatchObject({ policyId: POLICY_ID, catalogInUse: "2023-06", clustersAffected: 1 });
    const gains = impact && "groups" in impact ? impact.groups.flatMap((g) => g.gains) : [];
    expect(gains).toContainEqual(
      expect.objectContaining({ destination: "packages.aks.azure.com", ports: "HTTPS:443", feature: "base" }),
    );

    // The approval page: the plan, then where each requirement comes from on Microsoft's page.
    const link = a.approvalLinks().at(-1);
    if (link === undefined) throw new Error("no approval link was published");
    const shown = (await (await fetch(link)).json()) as { plan: string };
    expect(shown.plan).toMatch(/Plan: \d+ to add/);
    expect(shown.plan).toContain(
      "Catalog adoption: Microsoft's page of 2026-06-18 (2026-06) replaces catalog 2023-06",
    );
    expect(shown.plan).toMatch(/\+ packages\.aks\.azure\.com HTTPS:443 \(base\) <- 2026-06: .*line \d+/);
    expect(a.successfulPuts()).toBe(putsBefore);

    const decided = await fetch(link, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ decision: "approve" }),
    });
    expect(decided.status).toBe(200);
    const applied = await a.waitForPass(2);
    expect(applied.last).toMatchObject({ outcome: "applied" });
    expect(applied.last?.summary).toContain("page 2026-06 adopted");
    expect(applied.last?.catalog).toBe("2026-06 (offered page)");
    expect(a.successfulPuts()).toBe(putsBefore + 1);
    expect(await adoptionRecord(a)).toMatchObject({
      against: "2023-06",
      offer: { importedAs: "2026-06" },
      policies: { [POLICY_ID.toLowerCase()]: { state: "adopted", importedAs: "2026-06" } },
    });
    expect(a.events("AksEgressGuard.CatalogAdoption")).toEqual([
      expect.objectContaining({ policyId: POLICY_ID, state: "adopted" }),
    ]);

    // Later passes plan with the adopted page: nothing to undo, nothing to ask.
    await a.sendEvents([clusterEvent("33333333-3333-4333-8333-333333333333")]);
    expect((await a.waitForPass(3)).last).toMatchObject({
      outcome: "no-drift",
      catalog: "2026-06 (adopted page)",
    });
    // The same page again is not offered again.
    await runWatch(a);
    await a.host.idle();
    expect(a.emulator.notifications().filter((e) => e.type === CATALOG_CHANGED_TYPE)).toHaveLength(1);
  }, 90_000);

  it("a rejection keeps the catalog in use for that policy, and later passes stop asking", async () => {
    const a = await syncedApp();
    const putsBefore = a.successfulPuts();
    await runWatch(a);
    await a.waitForPhase("awaiting-approval");
    const link = a.approvalLinks().at(-1);
    if (link === undefined) throw new Error("no approval link was published");
    const decided = await fetch(link, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ decision: "reject", comment: "not before the freeze" }),
    });
    expect(decided.status).toBe(200);
    expect((await a.waitForPass(2)).last).toMatchObject({ outcome: "rejected" });
    expect(await adoptionRecord(a)).toMatchObject({
      policies: { [POLICY_ID.toLowerCase()]: { state: "declined", importedAs: "2026-06" } },
    });
    await a.sendEvents([clusterEvent("44444444-4444-4444-8444-444444444444")]);
    expect((await a.waitForPass(3)).last).toMatchObject({ outcome: "no-drift", catalog: "2023-06" });
    expect(a.successfulPuts()).toBe(putsBefore);
  }, 90_000);

  it("audit: the adoption is only reported", async () => {
    const a = await syncedApp("audit");
    await runWatch(a);
    expect((await a.waitForPass(2)).last).toMatchObject({ outcome: "reported" });
    expect(a.successfulPuts()).toBe(0);
    expect(a.approvalLinks()).toEqual([]);
  }, 90_000);
});
