// `aks-egress check` as a user runs it, against the ARM emulator.
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import { runCliAsync as runCli } from "../helpers/cli";
import { ROOT } from "../helpers/paths";
import { POLICY_ID, SMALL_ESTATE, SUBSCRIPTION } from "../local/arm-emulator-helpers";

const CLUSTER_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-aks-weu/providers/Microsoft.ContainerService/managedClusters/aks-weu-prod`;
let emulator: ArmEmulator;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  emulator = await startArmEmulator({ seedFile: SMALL_ESTATE, lroDelayMs: 20 });
  env = { AKS_EGRESS_ARM_ENDPOINT: emulator.endpoint, AKS_EGRESS_ARM_CA_FILE: emulator.caFile };
});
afterAll(async () => emulator.close());
beforeEach(() => emulator.reset());

const writes = () => emulator.requests().filter((r) => r.method !== "GET");

describe("aks-egress check", () => {
  it("shows a readable plan for a drifted policy and exits 2 without writing", async () => {
    const run = await runCli(["check", "--firewall-policy", POLICY_ID], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(2);
    expect(run.stdout).toContain("Rule collection group: aks-egress-guard (priority 300)");
    expect(run.stdout).toContain("+ collection aks-egress-shared-app (priority 100, Allow)");
    expect(run.stdout).toMatch(
      /\+ app-https-443-[^:]+: Https:443 to [^ ]*nvidia\.github\.io[^ ]* from 10\.10\.0\.0\/22,10\.10\.4\.0\/22\n/,
    );
    // People still read it per cluster.
    expect(run.stdout).toContain("Per cluster: 1 of 1 cluster(s) gain or lose access.");
    expect(run.stdout).toMatch(/\n {4}\+ nvidia\.github\.io Https:443 \(gpu\)\n/);
    expect(run.stdout).toMatch(/Plan: \d+ to add, 0 to change, 0 to remove/);
    expect(writes()).toEqual([]);
  });

  it("--apply --yes fixes it with exactly one PUT; a second check exits 0 with no write", async () => {
    const applied = await runCli(["check", "--cluster", CLUSTER_ID, "--apply", "--yes"], env);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain("Applied with 1 write. A fresh read shows no drift.");
    expect(writes().map((r) => r.method)).toEqual(["PUT"]);
    emulator.clearRequests();
    const again = await runCli(["check", "--firewall-policy", POLICY_ID], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("No changes.");
    expect(writes()).toEqual([]);
  });

  it("prints the plan as JSON for scripts", async () => {
    const run = await runCli(["check", "--firewall-policy", POLICY_ID, "--format", "json"], env);
    expect(run.code).toBe(2);
    const plan = JSON.parse(run.stdout) as {
      action: string;
      hash: string;
      applied: boolean;
      risk: { added: number };
      affectedClusters: string[];
    };
    expect(plan).toMatchObject({ action: "put", applied: false });
    expect(plan.hash).toMatch(/^[0-9a-f]{64}$/);
    // Shared rules: one per (sources, protocol, port), at least one application and one network rule.
    expect(plan.risk.added).toBeGreaterThanOrEqual(2);
    expect(plan.affectedClusters).toEqual([CLUSTER_ID.toLowerCase()]);
  });

  it("will not apply without --yes when nobody can be asked", async () => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, "bin", "aks-egress.js"), "check", "--firewall-policy", POLICY_ID, "--apply"],
      {
        env: { ...process.env, ...env },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/--apply needs --yes when there is no terminal/);
    expect(writes()).toEqual([]);
  });

  it.each([
    [["check"], /give exactly one of --cluster ID or --firewall-policy ID/],
    [["check", "--firewall-policy", "fw-policy"], /"fw-policy" is not an Azure resource ID/],
    [["check", "--firewall-policy", CLUSTER_ID], /is not a Microsoft.Network\/firewallPolicies resource ID/],
    [["check", "--firewall-policy", POLICY_ID, "--cloud", "Mars"], /unknown cloud "Mars"/],
    [["check", "--firewall-policy", POLICY_ID, "--bogus"], /unknown option '--bogus'/],
    [
      ["check", "--firewall-policy", POLICY_ID.replace("fw-policy", "nope")],
      /firewall policy .*nope does not exist/,
    ],
  ])("exits 1 (never 2, which means drift) for %j", async (args, message) => {
    const run = await runCli(args, env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
  });
});

describe("aks-egress check --include-untagged", () => {
  it("serves untagged clusters only when asked", async () => {
    // Drop the seed cluster's policy tag: it is then served only as a default policy's cluster.
    const state = emulator.state();
    const cluster = state.managedClusters[0] as { tags?: Record<string, string> };
    cluster.tags = {};
    const untagged = await startArmEmulator({ seed: state, lroDelayMs: 20 });
    try {
      const env2 = { AKS_EGRESS_ARM_ENDPOINT: untagged.endpoint, AKS_EGRESS_ARM_CA_FILE: untagged.caFile };
      const plain = await runCli(["check", "--firewall-policy", POLICY_ID], env2);
      expect(plain.stderr).toBe("");
      expect(plain.code).toBe(0);
      const asDefault = await runCli(["check", "--firewall-policy", POLICY_ID, "--include-untagged"], env2);
      expect(asDefault.stderr).toBe("");
      expect(asDefault.code).toBe(2);
      expect(asDefault.stdout).toContain("aks-weu-prod");
    } finally {
      await untagged.close();
    }
  });
});
