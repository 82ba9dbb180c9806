// `npm start` stopped and started again while an approval waits (issue 14): the pending approval is
// printed at once, with a link to the host as it runs now (or, when npm start's copy of the link is
// gone, what is pending and how to ask again); `npm run demo` uses only links of approvals still
// pending, through the current host; the real state directory is named; the history is where the
// README says. Three starts on one state directory, free ports (--base-port 0).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approvalLinks,
  appUrl,
  type Ran,
  runDemo,
  runStart,
  type Started,
  startRuntime,
} from "./runtime-helpers";

const WESTEUROPE =
  "/subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/rg-network/providers/Microsoft.Network/firewallPolicies/fw-hub-westeurope";
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

let stateDir = "";
let common: string[] = [];
const demo = (...args: string[]) => runDemo(["--state-dir", stateDir, ...args]);

function approvalIdOf(link: string): string {
  return new URL(link).pathname.split("/").at(-1) ?? "";
}

/** Lines of the output from the one matching `from` on. */
function linesFrom(out: string, from: RegExp): string[] {
  const lines = out.split("\n");
  const at = lines.findIndex((l) => from.test(l));
  return at < 0 ? [] : lines.slice(at);
}

describe.sequential("npm start after a restart", () => {
  let first: Ran;
  let firstApproval = "";
  let firstLink = "";
  const running: Started[] = [];

  beforeAll(async () => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-egress-restart-"));
    common = ["--state-dir", stateDir, "--base-port", "0"];
    first = await runStart([
      ...common,
      ...(process.env.PREFIX_CHECK ? [] : ["--events"]),
      "--exit-when-done",
    ]);
    const url = first.stdout.match(/\[AzureCloud\] app at (\S+),/)?.[1] ?? "(none)";
    firstLink = approvalLinks(first.stdout).find((l) => l.startsWith(url)) ?? "";
    firstApproval = firstLink === "" ? "(none)" : approvalIdOf(firstLink);
  }, 150_000);

  afterAll(async () => {
    for (const r of running) await r.stop();
    if (stateDir !== "") fs.rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  it("first start: fw-hub-westeurope waits for approval, and --events prints the traces as they are", () => {
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(firstApproval).toMatch(new RegExp(`^${UUID}$`));
    // --events: each AksEgressGuard.* trace as Application Insights would hold it.
    expect(first.stdout).toMatch(/^\[AzureCloud\] AksEgressGuard\.PassStarted \{"policyId":/m);
    expect(first.stdout).toMatch(/^\[AzureCloud\] AksEgressGuard\.PlanComputed \{/m);
    expect(first.stdout).toMatch(/^\[AzureChinaCloud\] AksEgressGuard\.PlanApplied \{/m);
    // The traces never carry the link (it is a credential): only the topic does.
    for (const line of first.stdout.split("\n").filter((l) => l.includes("AksEgressGuard.")))
      expect(line).not.toContain("token=");
  });

  it("a restart whose link npm start no longer has: the approval at once, and how to get a new link", async () => {
    // npm start's copy of what the notification topic delivered is gone (deleted, or never written).
    fs.rmSync(path.join(stateDir, "approval-links.json"));
    const began = Date.now();
    const second = startRuntime(common);
    running.push(second);
    const [line] = await second.waitFor(/fw-hub-westeurope: waiting for approval .*\n/, 60_000);
    expect(Date.now() - began).toBeLessThan(45_000);
    expect(line).toContain(firstApproval);
    expect(line).toMatch(/expires \d{4}-\d\d-\d\dT/);
    await second.waitFor(/Keeps serving/, 60_000);
    const out = second.out();
    // Printed as soon as the app is up, before the sweep, and with the plan's summary.
    expect(out.indexOf(firstApproval)).toBeLessThan(out.indexOf("Sweeping every firewall policy"));
    expect(out).toMatch(/Plan: \d+ to add/);
    // Honest about the link, and says how to get a new one.
    expect(out).toContain("the app never sends a link twice");
    expect(out).toContain(`npm run demo -- --state-dir ${stateDir} ask-again fw-hub-westeurope`);
    expect(approvalLinks(out)).toEqual([]);

    // Asking again: the waiting reconciler is ended and a new pass asks for approval, with a new link.
    const asked = await demo("ask-again", "fw-hub-westeurope");
    expect(asked.stderr).toBe("");
    expect(asked.code).toBe(0);
    expect(asked.stdout).toContain("fw-hub-westeurope");
    await second.waitFor(/fw-hub-westeurope: waiting for approval: http:\/\/\S+/, 90_000);
    const links = approvalLinks(second.out());
    expect(links).toHaveLength(1);
    expect(links[0]?.startsWith(`${appUrl(out, "AzureCloud")}/api/approvals/`)).toBe(true);
    expect(approvalIdOf(links[0] ?? "")).not.toBe(firstApproval);
    // The old approval's link no longer decides anything.
    const old = new URL(firstLink);
    const stale = await fetch(`${appUrl(out, "AzureCloud")}${old.pathname}${old.search}`, {
      headers: { Accept: "application/json" },
    });
    expect([409, 410]).toContain(stale.status);
    await second.stop();
  }, 180_000);

  it("a restart with the link: printed at once, pointing at the host as it runs now; demo approve uses it", async () => {
    const previous = JSON.parse(fs.readFileSync(path.join(stateDir, "runtime.json"), "utf8")) as {
      clouds: { cloud: string; url: string }[];
    };
    const before = previous.clouds.find((c) => c.cloud === "AzureCloud")?.url;
    const began = Date.now();
    const third = startRuntime(common);
    running.push(third);
    await third.waitFor(/fw-hub-westeurope: waiting for approval .*http:\/\/\S+/, 60_000);
    expect(Date.now() - began).toBeLessThan(45_000);
    await third.waitFor(/Keeps serving/, 60_000);
    const out = third.out();
    const url = appUrl(out, "AzureCloud");
    expect(url).not.toBe(before);
    const links = approvalLinks(out);
    expect(links.length).toBeGreaterThan(0);
    // Every link printed points at this run's host (--base-port 0 picked new ports).
    for (const link of links) expect(link.startsWith(`${url}/api/approvals/`)).toBe(true);
    const pendingId = approvalIdOf(links[0] ?? "");
    expect(out.indexOf(pendingId)).toBeLessThan(out.indexOf("Sweeping every firewall policy"));
    // The table shows it as waiting, not "? | still running".
    expect(out).not.toContain("still running");
    expect(out).toMatch(/\| AzureCloud\s+\| fw-hub-westeurope\s+\|[^\n]*waiting for approval/);
    // The link works.
    const page = await fetch(links[0] ?? "", { headers: { Accept: "application/json" } });
    expect(page.status).toBe(200);
    expect(((await page.json()) as { approvalId: string }).approvalId).toBe(pendingId);

    // Item 3: the state directory named is the real one, and the demo lines carry it.
    expect(out).not.toContain(".local-state");
    expect(out).toContain(`state is kept in ${stateDir}/`);
    expect(out).toContain(`npm run demo -- --state-dir ${stateDir} approve`);

    // demo status: a table, aligned, every policy, the pending approval by ID (never its link).
    const status = await demo("status");
    expect(status.stderr).toBe("");
    expect(status.code).toBe(0);
    checkTable(status.stdout);
    expect(status.stdout).toMatch(/\| AzureCloud\s+\| fw-hub-westeurope\s+\|/);
    expect(status.stdout).toContain(pendingId);
    expect(status.stdout).not.toContain("token=");

    // demo approve: posts to the pending approval's link, on this host.
    const approved = await demo("approve");
    expect(approved.stderr).toBe("");
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain(`fw-hub-westeurope: approval ${pendingId}`);
    expect(approved.stdout).toMatch(/HTTP 20[02]/);
    await third.waitFor(/fw-hub-westeurope: applied with 1 write\(s\); converged: true/, 60_000);
    await third.waitFor(/fw-hub-westeurope: pass \d+ done: /, 60_000);
    // Item 4: the decision has its line too.
    expect(third.out()).toMatch(new RegExp(`fw-hub-westeurope: approval ${pendingId} approved by \\S+`));

    // Nothing pending now: approve says so, fails, and posts nowhere.
    const again = await demo("approve");
    expect(again.code).toBe(1);
    expect(`${again.stdout}${again.stderr}`).toContain("nothing is pending");
    expect(again.stdout).not.toMatch(/HTTP \d{3}/);

    // status after applying: no word said twice ("applied applied").
    const after = await demo("status");
    expect(after.code).toBe(0);
    checkTable(after.stdout);
    expect(after.stdout).toMatch(/\| AzureCloud\s+\| fw-hub-westeurope\s+\|[^\n]*applied/);
  }, 180_000);

  it("keeps every AksEgressGuard.* trace of every start in the state directory (the README's history)", () => {
    const file = path.join(stateDir, "AzureCloud", "traces.log");
    const lines = fs.readFileSync(file, "utf8").trim().split("\n");
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe("600");
    for (const line of lines) expect(line).toMatch(/^\S+Z AksEgressGuard\.\w+ \{.*\}$/);
    const names = lines.map((l) => l.split(" ")[1]);
    // Pass 1 of the first start, the approval asked twice, the decision and the write of the last.
    expect(names.filter((n) => n === "AksEgressGuard.ApprovalRequested").length).toBeGreaterThanOrEqual(2);
    for (const name of ["PassStarted", "PlanComputed", "ApprovalDecided", "PlanApplied", "PassCompleted"])
      expect(names).toContain(`AksEgressGuard.${name}`);
    expect(lines.join("\n")).not.toContain("token=");
  });

  it("the Durable API's history holds the current execution only (the reconciler continues as new)", async () => {
    const third = running.at(-1);
    const out = third?.out() ?? "";
    const url = appUrl(out, "AzureCloud");
    const keys = JSON.parse(fs.readFileSync(path.join(stateDir, "host-keys.json"), "utf8")) as {
      system: { durabletask_extension: string };
    };
    const status = (await (
      await fetch(`${url}/api/status?policy=${encodeURIComponent(WESTEUROPE)}`, {
        headers: { "x-functions-key": "local-function-key" },
      })
    ).json()) as { instanceId: string; pass: number };
    const instance = (await (
      await fetch(
        `${url}/runtime/webhooks/durabletask/instances/${status.instanceId}?showHistory=true&code=${keys.system.durabletask_extension}`,
      )
    ).json()) as { historyEvents: { EventType: string; Input?: string }[] };
    const started = instance.historyEvents.filter((e) => e.EventType === "ExecutionStarted");
    expect(started).toHaveLength(1);
    expect(instance.historyEvents[0]?.EventType).toBe("ExecutionStarted");
    expect((JSON.parse(started[0]?.Input ?? "{}") as { pass: number }).pass).toBe(status.pass);
    expect(status.pass).toBeGreaterThan(1);
  });
});

/** A cli-table3 table: every line equally wide, every row's cells where the header's are. */
function checkTable(text: string) {
  const lines = text.trimEnd().split("\n");
  const table = linesFrom(text, /^\+-/).filter((l) => l.startsWith("+") || l.startsWith("|"));
  expect(table.length).toBeGreaterThan(4);
  const width = table[0]?.length;
  for (const line of table) expect(line.length).toBe(width);
  // Column borders where the top border has its "+": every row's "|" are there (no cell too wide).
  const borders = [...(table[0] ?? "")].flatMap((c, i) => (c === "+" ? [i] : []));
  for (const line of table) expect(borders.map((i) => line[i]).join("")).toMatch(/^[|+]+$/);
  for (const line of lines) expect(line).not.toMatch(/\b([a-z]{3,}) \1\b/i);
}

describe("npm start stopped during the sweep", () => {
  it("Ctrl-C while the passes run ends it, children and all, without the table", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-egress-stop-"));
    const started = startRuntime(["--state-dir", dir, "--base-port", "0", "--cloud", "AzureCloud"]);
    try {
      await started.waitFor(/Sweeping every firewall policy/, 60_000);
      const stoppedAt = Date.now();
      const code = await started.stop();
      // It used to wait out the sweep's two minutes, then for children that had already exited: for ever.
      expect(Date.now() - stoppedAt).toBeLessThan(15_000);
      expect(code).toBe(0);
      expect(started.out()).not.toContain("| Cloud ");
      // The deployment saved its estate as it stopped.
      expect(fs.existsSync(path.join(dir, "AzureCloud", "arm-estate.json"))).toBe(true);
    } finally {
      started.child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
