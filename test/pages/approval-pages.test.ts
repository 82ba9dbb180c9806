// The approval link's pages over HTTP, the app running against the emulator: what a reviewer reads,
// what each outcome says, and the same facts as JSON for API clients. (The browser drives the same
// pages in approval-browser.test.ts.)
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppUnderTest, startApp } from "../orchestrations/app-harness";
import { HOSTILE_NAME, HOSTILE_TAG, hostileEstate } from "./hostile-estate";

const clusterEvent = JSON.parse(
  fs.readFileSync(path.join(__dirname, "..", "fixtures", "events", "cluster-write.eventgrid.json"), "utf8"),
) as Record<string, unknown>;
const HTML = { Accept: "text/html,application/xhtml+xml" };

let app: AppUnderTest;
let link: string;
beforeAll(async () => {
  app = await startApp({ seedFile: hostileEstate(), settings: { AKS_EGRESS_MODE: "approve" } });
  await app.sendEvents([clusterEvent]);
  await app.waitForPhase("awaiting-approval");
  const [first] = app.approvalLinks();
  if (first === undefined) throw new Error("no approval link was published");
  link = first;
}, 30_000);
afterAll(async () => app?.close());

describe("the approval page", () => {
  let page: string;
  beforeAll(async () => {
    const response = await fetch(link, { headers: HTML });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    page = await response.text();
    if (process.env.AKS_EGRESS_KEEP_PAGES) fs.writeFileSync(process.env.AKS_EGRESS_KEEP_PAGES, page);
  });

  it("opens with the risk summary and what triggered the plan", () => {
    const summary = page.slice(page.indexOf('aria-label="Risk summary"'), page.indexOf("</section>"));
    expect(summary).toMatch(/\d+ rule\(s\) to add, \d+ to change, 0 to remove/);
    expect(summary).toContain("1 of 1 cluster(s) gain or lose access");
    expect(summary).toMatch(/Asks a person because: .*approve/);
    expect(summary).toMatch(/Triggered by: .*\(event\)/);
  });

  it("groups the change by cluster, and says for each destination which entry of Microsoft's page asks for it", () => {
    expect(page).toContain("1 cluster(s) in westeurope");
    expect(page).toContain("<code>mcr.microsoft.com</code>");
    expect(page).toMatch(/\+ gains/);
    // The why: feature, the page's table, the line, and the catalog with its page's date.
    expect(page).toMatch(
      /<strong>base<\/strong>: [^<]+<span class="muted">\(catalog \d{4}-\d{2}, page of \d{4}-\d{2}-\d{2}: “[^”]+”, line \d+\)/,
    );
  });

  it("lists the rules to write with every destination and source in full, additions marked in words", () => {
    expect(page).toContain('<td class="kind">+ add</td>');
    expect(page).toContain("10.10.0.0/22");
    // The longest host of the plan, unclipped (the plan text, in the disclosure, is unclipped too).
    expect(page).toContain("<code>westeurope.handler.control.monitor.azure.com</code>");
  });

  it("shows a hostile cluster name and tag as text, never as markup", () => {
    expect(page).not.toContain(HOSTILE_NAME);
    expect(page).not.toContain(HOSTILE_TAG);
    expect(page).not.toMatch(/<script|<img/i);
    expect(page).toContain("&#60;script&#62;alert(&#39;name&#39;)&#60;/script&#62;");
  });

  it("has a form with a comment box and two buttons, and nothing that needs script", () => {
    expect(page).toMatch(/<form method="post" action="\?token=[^"]+"/);
    expect(page).toContain('<textarea id="comment" name="comment"');
    expect(page).toContain('value="approve">Approve and apply</button>');
    expect(page).toContain('value="reject">Reject</button>');
  });

  it("API clients get the same approval as JSON", async () => {
    const response = await fetch(link, { headers: { Accept: "application/json" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ plan: expect.stringMatching(/Plan: \d+ to add/) });
  });
});

describe("pages for links that cannot decide", () => {
  it("a forged link gets a page that says so, and JSON for API clients", async () => {
    const forged = link.replace(/token=([^&]{10})/, "token=AAAAAAAAAA");
    const page = await fetch(forged, { headers: HTML });
    expect(page.status).toBe(403);
    expect(await page.text()).toContain("This approval link is not valid");
    const api = await fetch(forged);
    expect(api.status).toBe(403);
    expect(await api.json()).toMatchObject({ error: expect.any(String) });
  });

  it("a form without a decision is refused with a page, and decides nothing", async () => {
    const response = await fetch(link, {
      method: "POST",
      headers: { ...HTML, "Content-Type": "application/x-www-form-urlencoded" },
      body: "comment=hello",
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("The decision could not be read");
    expect((await app.status()).phase).toBe("awaiting-approval");
  });
});

describe("deciding from the form", () => {
  it("approve: the result page says what happened and shows the comment; the link then explains it was decided", async () => {
    const response = await fetch(link, {
      method: "POST",
      headers: { ...HTML, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ decision: "approve", comment: 'CHG-0042 <b>"ok"</b>' }).toString(),
    });
    expect(response.status).toBe(200);
    const result = await response.text();
    expect(result).toContain("Approved: the change is being written");
    expect(result).toContain("CHG-0042 &#60;b&#62;&#34;ok&#34;&#60;/b&#62;");
    expect(result).toContain("/api/estate");

    const status = await app.waitForPass(1);
    expect(status.last).toMatchObject({ outcome: "applied", decision: { comment: 'CHG-0042 <b>"ok"</b>' } });
    expect(app.successfulPuts()).toBe(1);

    const again = await fetch(link, { headers: HTML });
    expect(again.status).toBe(409);
    const decided = await again.text();
    expect(decided).toContain("Already decided");
    expect(decided).toContain("CHG-0042");
    const api = await fetch(link);
    expect(await api.json()).toMatchObject({
      decided: { decision: "approve", comment: 'CHG-0042 <b>"ok"</b>' },
    });
  });
});
