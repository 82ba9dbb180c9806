// Values only the network knows, about the API server: a public cluster's address resolved from its
// FQDN (Node's real resolver asking the emulator's DNS), a finding when it changes, the address kept
// when DNS fails, the parameters tag overriding, and the API server subnet of VNet integration. The
// pass's own gathering, planning and writing, the real SDK, the ARM emulator, the demo estate.
import { afterEach, describe, expect, it } from "vitest";
import { type ArmEmulator, type EmulatorSeed, startArmEmulator } from "../../local/arm-emulator";
import { defaultAddressOf } from "../../local/arm-emulator/dns";
import { applyPlan, checkPolicy } from "../../orchestrations/activities/plan";
import { demoEstate, networkRulesOf } from "../helpers/demo-estate";
import {
  DEMO_POLICY as POLICY,
  passSettings,
  DEMO_SUBSCRIPTION as SUBSCRIPTION,
} from "../helpers/pass-settings";
import { emulatorConnection } from "../local/arm-emulator-helpers";

const WEB_FQDN = "aks-weu-web-3f9c2a1b.hcp.westeurope.azmk8s.io";
const SPOKE = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-spoke-westeurope`;

interface Cluster {
  name: string;
  tags?: Record<string, string>;
  properties: Record<string, unknown> & { apiServerAccessProfile?: Record<string, unknown> };
}

/** The demo estate with aks-weu-web changed by `change` (it is untagged and found by its route). */
function seed(change: (web: Cluster) => void): EmulatorSeed {
  const estate = demoEstate<EmulatorSeed & { managedClusters: Cluster[] }>();
  const web = estate.managedClusters.find((c) => c.name === "aks-weu-web");
  if (web === undefined) throw new Error("demo estate changed");
  change(web);
  return estate;
}

const withPodApiAccess =
  (extraTags: Record<string, string> = {}) =>
  (web: Cluster) => {
    web.tags = { ...web.tags, "aks-egress-guard/features": "+pod-api-access", ...extraTags };
  };

let emulator: ArmEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function start(estate: EmulatorSeed) {
  emulator = await startArmEmulator({ seed: estate });
  const connection = emulatorConnection(emulator);
  const settings = passSettings([SUBSCRIPTION], [POLICY], { resolvers: [emulator.dnsServer] });
  const check = async () => {
    const { gathered, plan } = await checkPolicy(connection, POLICY, settings);
    const web = gathered.clusters.find((c) => c.name === "aks-weu-web");
    const webRules = (port: string) =>
      networkRulesOf(plan, port).filter((r) =>
        (web?.nodeSubnets ?? []).every((s) => (r.sourceAddresses ?? []).includes(s)),
      );
    return { gathered, plan, web, webRules, codes: plan.findings.map((f) => f.code) };
  };
  const apply = async () => {
    const { plan } = await checkPolicy(connection, POLICY, settings);
    await applyPlan(connection, POLICY, plan, settings);
  };
  return { emulator, check, apply };
}

describe("a public cluster's API server address, resolved from its FQDN", () => {
  it("with pod-api-access: TCP 443 to the address DNS gives; the tunnel rows keep the region's tag", async () => {
    const { check } = await start(seed(withPodApiAccess()));
    const { web, webRules } = await check();
    const address = defaultAddressOf(WEB_FQDN);
    expect(web?.parameters.apiServerIp).toEqual([address]);
    expect(web?.apiServerIpFromFqdn).toBe(true);
    expect(webRules("443").flatMap((r) => r.destinationAddresses ?? [])).toContain(address);
    const tunnel = webRules("1194");
    expect(tunnel).not.toHaveLength(0);
    for (const rule of tunnel)
      expect(rule.destinationAddresses?.map((a) => a.toLowerCase())).toEqual(["azurecloud.westeurope"]);
  });

  it("without pod-api-access nothing is resolved, and the plan is as before", async () => {
    const { check, emulator } = await start(seed(() => {}));
    emulator.setDnsAnswer(WEB_FQDN, "fail");
    const { web, codes } = await check();
    expect(web?.parameters.apiServerIp).toBeUndefined();
    expect(codes).not.toContain("API_SERVER_NOT_RESOLVED");
  });

  it("the address changes (maintenance): API_SERVER_ADDRESS_CHANGED, and the plan moves the rule", async () => {
    const { check, apply, emulator } = await start(seed(withPodApiAccess()));
    await apply();
    expect((await check()).plan.action).toBe("none");

    emulator.setDnsAnswer(WEB_FQDN, ["20.99.1.2"]);
    const { plan, webRules, codes } = await check();
    expect(codes).toContain("API_SERVER_ADDRESS_CHANGED");
    const finding = plan.findings.find((f) => f.code === "API_SERVER_ADDRESS_CHANGED");
    expect(finding?.message).toContain("20.99.1.2");
    expect(finding?.message).toContain(defaultAddressOf(WEB_FQDN));
    expect(plan.action).toBe("put");
    const to443 = webRules("443").flatMap((r) => r.destinationAddresses ?? []);
    expect(to443).toContain("20.99.1.2");
    expect(to443).not.toContain(defaultAddressOf(WEB_FQDN));
  });

  it("DNS fails: the rule keeps the address the group allows, nothing is removed", async () => {
    const { check, apply, emulator } = await start(seed(withPodApiAccess()));
    await apply();
    emulator.setDnsAnswer(WEB_FQDN, "fail");
    const { plan, web, codes } = await check();
    expect(codes).toContain("API_SERVER_NOT_RESOLVED");
    expect(web?.parameters.apiServerIp).toEqual([defaultAddressOf(WEB_FQDN)]);
    expect(plan.action).toBe("none");
  });

  it("DNS fails before any rule was written: no rule to a guessed address, and a finding naming the tag", async () => {
    const { check, emulator } = await start(seed(withPodApiAccess()));
    emulator.setDnsAnswer(WEB_FQDN, "fail");
    const { plan, web } = await check();
    expect(web?.parameters.apiServerIp).toBeUndefined();
    const finding = plan.findings.find((f) => f.code === "API_SERVER_NOT_RESOLVED");
    expect(finding?.message).toContain(WEB_FQDN);
    expect(finding?.message).toContain("aks-egress-guard/parameters=apiServerIp=");
  });

  it("the parameters tag overrides: its address serves every API server row, and DNS is not asked", async () => {
    const { check, emulator } = await start(
      seed(withPodApiAccess({ "aks-egress-guard/parameters": "apiServerIp=20.50.1.10" })),
    );
    emulator.setDnsAnswer(WEB_FQDN, "fail");
    const { web, webRules, codes } = await check();
    expect(codes).not.toContain("API_SERVER_NOT_RESOLVED");
    expect(web?.parameters.apiServerIp).toEqual(["20.50.1.10"]);
    expect(web?.apiServerIpFromFqdn).toBeUndefined();
    for (const rule of webRules("1194")) expect(rule.destinationAddresses).toEqual(["20.50.1.10"]);
  });

  it("a private cluster is never resolved", async () => {
    const { check, emulator } = await start(
      seed((web) => {
        withPodApiAccess()(web);
        web.properties.apiServerAccessProfile = { enablePrivateCluster: true };
      }),
    );
    emulator.setDnsAnswer(WEB_FQDN, "fail");
    const { web, codes } = await check();
    expect(web?.parameters.apiServerIp).toBeUndefined();
    expect(codes).not.toContain("API_SERVER_NOT_RESOLVED");
  });
});

describe("API server VNet integration: the API server subnet from apiServerAccessProfile.subnetId", () => {
  it("fills apiServerSubnet from the subnet's prefix, read in the same network list", async () => {
    const subnetId = `${SPOKE}/subnets/snet-apiserver`;
    const { check, emulator } = await start(
      seed((web) => {
        web.properties.apiServerAccessProfile = { enablePrivateCluster: false, subnetId };
      }),
    );
    emulator.upsert({
      id: subnetId,
      name: "snet-apiserver",
      type: "Microsoft.Network/virtualNetworks/subnets",
      properties: { addressPrefix: "10.10.40.0/28" },
    });
    const { web, codes } = await check();
    expect(web?.parameters.apiServerSubnet).toEqual(["10.10.40.0/28"]);
    expect(codes).not.toContain("SUBNET_UNREADABLE");
  });

  it("a subnet that cannot be read is a finding, and no value is guessed", async () => {
    const { check } = await start(
      seed((web) => {
        web.properties.apiServerAccessProfile = { subnetId: `${SPOKE}/subnets/snet-missing` };
      }),
    );
    const { plan, web } = await check();
    expect(web?.parameters.apiServerSubnet).toBeUndefined();
    const finding = plan.findings.find((f) => f.code === "SUBNET_UNREADABLE");
    expect(finding?.message).toContain("API server subnet");
  });
});
