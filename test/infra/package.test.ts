// `npm run package`: the deployment bundle holds every function the app registers.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startFunctionsHost } from "../../local/functions-host";
import { ROOT } from "../helpers/paths";

const settings = {
  AKS_EGRESS_FIREWALL_POLICIES:
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Network/firewallPolicies/fw",
  AKS_EGRESS_APPROVAL_SIGNING_KEY: "k".repeat(40),
  AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
  AKS_EGRESS_CATALOG_WATCH_SCHEDULE: "0 30 5 * * *",
  AKS_EGRESS_TASK_HUB: "bundle",
};

async function registrations(entry: string): Promise<string[]> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-egress-bundle-"));
  const host = await startFunctionsHost({
    entryFiles: [entry],
    port: 0,
    stateDir,
    runTimers: false,
    settings,
    logger: () => {},
  });
  try {
    return host.functions.map((f) => `${f.name}:${f.triggerType}`).sort();
  } finally {
    await host.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

describe("npm run package", () => {
  it("bundles the app into build/deploy with every function registration", async () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, "scripts", "package.mjs")], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(0);
    const deploy = path.join(ROOT, "build", "deploy");
    expect(fs.readdirSync(deploy).sort()).toEqual([
      "host.json",
      "index.js",
      "index.js.LEGAL.txt",
      "index.js.map",
      "package.json",
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(deploy, "package.json"), "utf8"))).toMatchObject({
      main: "index.js",
    });
    expect(fs.statSync(path.join(ROOT, "build", "aks-egress-guard.zip")).size).toBeGreaterThan(100_000);

    const fromBundle = await registrations(path.join(deploy, "index.js"));
    const fromSource = await registrations(path.join(ROOT, "dist", "functions", "*.js"));
    expect(fromBundle).toEqual(fromSource);
    expect(fromBundle).toEqual([
      "applyPlan:activityTrigger",
      "approvals:httpTrigger",
      "armEvents:eventGridTrigger",
      "catalogWatch:timerTrigger",
      "gatherAndPlan:activityTrigger",
      "policyReconciler:orchestrationTrigger",
      "reconcile:httpTrigger",
      "requestApproval:activityTrigger",
      "status:httpTrigger",
      "sweep:timerTrigger",
      "verifyDecision:activityTrigger",
    ]);
  }, 60_000);
});
