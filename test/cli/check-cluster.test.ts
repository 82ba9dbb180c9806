// `aks-egress check --cluster ID` prints the path the cluster's egress follows (issue 13), then
// checks the policy its tag names, or else the one its routes lead to. Against the emulator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import { runCliAsync as runCli } from "../helpers/cli";
import { clusterResource, IDS, topologySeed } from "../topology/estate";

let emulator: ArmEmulator;
let env: NodeJS.ProcessEnv;
const routed = clusterResource("aks-routed", { system: IDS.snetRouted, user: IDS.snetRoutedUser });
const bypass = clusterResource("aks-bypass", { system: IDS.snetInternet });
const podApi = {
  ...clusterResource("aks-podapi", { system: IDS.snetRouted }),
  tags: { "aks-egress-guard/features": "+pod-api-access" },
};
const tagged = {
  ...clusterResource("aks-tagged", { system: IDS.snetRouted }),
  tags: { "aks-egress-guard/firewall-policy": IDS.vwanPolicy },
};

beforeAll(async () => {
  emulator = await startArmEmulator({
    seed: { ...topologySeed(), managedClusters: [routed, bypass, tagged, podApi] },
    lroDelayMs: 20,
  });
  env = { AKS_EGRESS_ARM_ENDPOINT: emulator.endpoint, AKS_EGRESS_ARM_CA_FILE: emulator.caFile };
});
afterAll(async () => emulator.close());

describe("aks-egress check --cluster", () => {
  it("an untagged cluster: the path its routes follow, then the plan of the policy they lead to", async () => {
    const run = await runCli(["check", "--cluster", routed.id], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(2);
    expect(run.stdout).toContain(
      [
        "Egress path:",
        "  aks-routed: its routes lead to policy fw-policy-hub",
        "    pool system: subnet snet-routed (10.20.0.0/22) → route table rt-to-firewall → 0.0.0.0/0 via VirtualAppliance 10.0.1.4 → Azure Firewall fw-hub-weu → policy fw-policy-hub",
        "    pool user: subnet snet-routed-user (10.20.4.0/22) → route table rt-to-firewall → 0.0.0.0/0 via VirtualAppliance 10.0.1.4 → Azure Firewall fw-hub-weu → policy fw-policy-hub",
        `Policy: ${IDS.policy} (from its routes).`,
      ].join("\n"),
    );
    // The plan is the routed policy's, and serves the cluster though it has no tag.
    expect(run.stdout).toContain("from 10.20.0.0/22,10.20.4.0/22");
    expect(emulator.requests().filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("a tagged cluster whose routes lead elsewhere: the tag wins, and the path says so", async () => {
    const run = await runCli(["check", "--cluster", tagged.id], env);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain("aks-tagged: its routes lead to policy fw-policy-hub (not in scope)");
    expect(run.stdout).toContain("warning TAG_DISAGREES_WITH_ROUTES: aks-tagged: its tag");
    expect(run.stdout).toContain(
      `Policy: ${IDS.vwanPolicy} (from its aks-egress-guard/firewall-policy tag).`,
    );
  });

  it("a cluster whose route bypasses the firewall: the path, the finding, and no policy to check", async () => {
    const run = await runCli(["check", "--cluster", bypass.id], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "    pool system: subnet snet-internet (10.20.8.0/24) → route table rt-internet → 0.0.0.0/0 via Internet → Internet, around the firewall",
    );
    expect(run.stdout).toContain("warning EGRESS_BYPASSES_FIREWALL: aks-bypass: pool system");
    expect(run.stderr).toContain("its routes lead to no single firewall policy; pass --firewall-policy ID");
  });

  it("--format json carries the path", async () => {
    const run = await runCli(["check", "--cluster", routed.id, "--format", "json"], env);
    expect(run.code).toBe(2);
    const out = JSON.parse(run.stdout) as { egress: { routedPolicyId: string; pools: unknown[] } };
    expect(out.egress.routedPolicyId).toBe(IDS.policy);
    expect(out.egress.pools).toHaveLength(2);
  });

  it("--resolver: the public API server's address from its FQDN, printed with the values it fills", async () => {
    const fqdn = "aks-podapi-3f9c2a1b.hcp.westeurope.azmk8s.io";
    emulator.setDnsAnswer(fqdn, ["20.61.7.9"]);
    const run = await runCli(["check", "--cluster", podApi.id, "--resolver", emulator.dnsServer], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(
      /^Values only the cluster knows: .*apiServerIp=20\.61\.7\.9 \(resolved from its API server FQDN\)$/m,
    );
    expect(run.stdout).toContain("+ 20.61.7.9 TCP:443 (pod-api-access)");
  });

  it("--resolver that is not an address: a clear error, nothing read", async () => {
    emulator.clearRequests();
    const run = await runCli(["check", "--cluster", podApi.id, "--resolver", "dns.example.com"], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--resolver: "dns.example.com" is not an IP address');
    expect(emulator.requests()).toEqual([]);
  });
});
