// A reviewer's path in a real browser (Debian's Chromium through playwright-core): open the link,
// read the plan, type a comment, press Approve, see the result; the write happens. Names and tags
// that carry markup stay text: no element, no dialog, no request they could cause. Then the estate
// page shows the outcome.
import fs from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppUnderTest, startApp } from "../orchestrations/app-harness";
import { HOSTILE_NAME, HOSTILE_TAG, hostileEstate } from "../pages/hostile-estate";
import { launchChromium, screenshotPath } from "./chromium";

const clusterEvent = JSON.parse(
  fs.readFileSync(path.join(__dirname, "..", "fixtures", "events", "cluster-write.eventgrid.json"), "utf8"),
) as Record<string, unknown>;

let app: AppUnderTest;
let browser: Browser;
let page: Page;
const dialogs: string[] = [];
const foreignRequests: string[] = [];

beforeAll(async () => {
  [app, browser] = await Promise.all([
    startApp({ seedFile: hostileEstate(), settings: { AKS_EGRESS_MODE: "approve" } }),
    launchChromium(),
  ]);
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("request", (request) => {
    if (!request.url().startsWith(app.host.url)) foreignRequests.push(request.url());
  });
  await app.sendEvents([clusterEvent]);
  await app.waitForPhase("awaiting-approval");
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Markup from the estate would show up as elements: the pages themselves have no img and no script. */
async function expectInert(where: string): Promise<void> {
  expect(await page.locator("script").count(), `${where}: script elements`).toBe(0);
  expect(await page.locator("img").count(), `${where}: img elements`).toBe(0);
  expect(dialogs, `${where}: dialogs`).toEqual([]);
  expect(foreignRequests, `${where}: requests elsewhere`).toEqual([]);
}

describe("approving in a browser", () => {
  it("reads the plan, types a comment, approves, sees the result, and the write happens", async () => {
    const [link] = app.approvalLinks();
    if (link === undefined) throw new Error("no approval link was published");
    await page.goto(link);
    await page.screenshot({ path: screenshotPath("approval-page"), fullPage: true });

    expect(await page.locator("h1").innerText()).toBe("Firewall change waiting for a decision");
    const summary = page.getByRole("region", { name: "Risk summary" });
    expect(await summary.innerText()).toContain("to remove");
    expect(await summary.innerText()).toContain("1 of 1 cluster(s) gain or lose access");
    // The hostile name and tag are on the page as text, exactly as they are in Azure.
    expect(await page.locator(".cluster-group .mono").first().innerText()).toBe(HOSTILE_NAME);
    expect(await page.getByRole("table").last().innerText()).toContain(HOSTILE_TAG);
    // Every rule row says why, with the page's table and line.
    const gains = page.locator("tr.add");
    expect(await gains.count()).toBeGreaterThan(5);
    expect(await gains.first().innerText()).toMatch(
      /catalog \d{4}-\d{2}, page of \d{4}-\d{2}-\d{2}: “.+”, line \d+/,
    );
    await expectInert("approval page");
    expect(app.successfulPuts()).toBe(0);

    await page.getByLabel(/Comment/).fill("CHG-7781: AKS egress for the new GPU pool");
    await Promise.all([
      page.waitForURL(/approvals/, { waitUntil: "load" }),
      page.getByRole("button", { name: "Approve and apply" }).click(),
    ]);
    await page.screenshot({ path: screenshotPath("approval-result"), fullPage: true });
    expect(await page.locator("h1").innerText()).toBe("Approved: the change is being written");
    expect(await page.locator("dl.facts").innerText()).toContain("CHG-7781: AKS egress for the new GPU pool");
    await expectInert("result page");

    const status = await app.waitForPass(1);
    expect(status.last).toMatchObject({
      outcome: "applied",
      decision: { decision: "approve", comment: "CHG-7781: AKS egress for the new GPU pool" },
    });
    expect(app.successfulPuts()).toBe(1);

    // The link again: decided, with who, when and the comment, in a page (not a JSON viewer).
    await page.goto(link);
    await page.screenshot({ path: screenshotPath("approval-decided"), fullPage: true });
    expect(await page.locator("h1").innerText()).toBe("Already decided");
    expect(await page.locator("dl.facts").innerText()).toContain("CHG-7781");
  }, 60_000);

  it("the estate page shows the pass, the decision and its comment, and the hostile name as text", async () => {
    await page.goto(`${app.host.url}/api/estate?code=test-function-key`);
    await page.screenshot({ path: screenshotPath("estate-page"), fullPage: true });
    expect(await page.locator("h1").innerText()).toBe("Egress estate");
    const text = await page.locator("body").innerText();
    expect(text).toContain("applied");
    expect(text).toContain("CHG-7781: AKS egress for the new GPU pool");
    expect(text).toContain(HOSTILE_NAME);
    // The estate page never hands out an approval link.
    expect(await page.content()).not.toMatch(/token=|\/api\/approvals/);
    await expectInert("estate page");
  });

  it("a forged link shows a page that says so", async () => {
    const [link] = app.approvalLinks();
    await page.goto((link ?? "").replace(/token=([^&]{12})/, "token=forgedforged"));
    await page.screenshot({ path: screenshotPath("approval-forged"), fullPage: true });
    expect(await page.locator("h1").innerText()).toBe("This approval link is not valid");
    await expectInert("forged link");
  });
});
