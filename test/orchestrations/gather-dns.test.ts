// Custom DNS servers from the network: a pass reads the node subnets' virtual networks in the same
// list as the subnets, and a cluster whose network names DNS servers (dhcpOptions.dnsServers) gains
// UDP 53 to them; Azure-provided DNS needs no rule. The pass's own gathering and planning, the real
// SDK, the ARM emulator, the demo estate.
import { afterEach, describe, expect, it } from "vitest";
import { type ArmEmulator, type EmulatorSeed, startArmEmulator } from "../../local/arm-emulator";
import { checkPolicy } from "../../orchestrations/activities/plan";
import { demoEstate, networkRulesOf } from "../helpers/demo-estate";
import {
  DEMO_POLICY as POLICY,
  passSettings,
  DEMO_SUBSCRIPTION as SUBSCRIPTION,
} from "../helpers/pass-settings";
import { emulatorConnection } from "../local/arm-emulator-helpers";

const SPOKE = "vnet-spoke-westeurope";

const settings = passSettings([SUBSCRIPTION], [POLICY]);

/** The demo estate with the spoke network's DNS servers set (undefined: none set). */
function seed(dnsServers: string[] | undefined): EmulatorSeed {
  const estate = demoEstate<
    EmulatorSeed & { virtualNetworks: { id: string; properties: Record<string, unknown> }[] }
  >();
  const spoke = estate.virtualNetworks.find((n) => n.id.endsWith(`/${SPOKE}`));
  if (spoke === undefined) throw new Error("demo estate changed");
  if (dnsServers !== undefined) spoke.properties.dhcpOptions = { dnsServers };
  return estate;
}

let emulator: ArmEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function plan(dnsServers: string[] | undefined) {
  emulator = await startArmEmulator({ seed: seed(dnsServers) });
  const { gathered, plan } = await checkPolicy(emulatorConnection(emulator), POLICY, settings);
  return { gathered, plan, dnsRules: networkRulesOf(plan, "53") };
}

describe("custom DNS servers from the node subnets' virtual network", () => {
  it("dhcpOptions.dnsServers: every cluster in that network gains UDP 53 to those servers", async () => {
    const { gathered, dnsRules } = await plan(["10.0.5.4", "10.0.5.5", "168.63.129.16"]);
    const web = gathered.clusters.find((c) => c.name === "aks-weu-web");
    expect(web?.parameters.dnsServers).toEqual(["10.0.5.4", "10.0.5.5"]);
    expect(dnsRules).not.toHaveLength(0);
    for (const rule of dnsRules) {
      expect(rule.ipProtocols).toEqual(["UDP"]);
      expect([...(rule.destinationAddresses ?? [])].sort()).toEqual(["10.0.5.4", "10.0.5.5"]);
    }
    const sources = dnsRules.flatMap((r) => r.sourceAddresses ?? []);
    for (const cidr of web?.nodeSubnets ?? []) expect(sources).toContain(cidr);
  });

  it("Azure-provided DNS (no list, or only 168.63.129.16): no parameter, no rule", async () => {
    for (const dns of [undefined, [], ["168.63.129.16"]]) {
      const { gathered, dnsRules } = await plan(dns);
      expect(gathered.clusters.map((c) => c.parameters.dnsServers)).toEqual(
        gathered.clusters.map(() => undefined),
      );
      expect(dnsRules).toEqual([]);
      await emulator?.close();
      emulator = undefined;
    }
  });
});
