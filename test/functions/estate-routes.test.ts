// The estate page maps clusters as a pass does (mapClusters): on the demo estate, with the real SDK
// against the ARM emulator, an untagged cluster whose routes lead to the policy's firewall is shown
// as the policy's, mapped by "routes"; one whose route bypasses the firewall is not.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readEstateClusters } from "../../functions/http/estate-clusters";
import { estatePage } from "../../functions/pages/estate-page";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import { checkPolicy, type PassSettings } from "../../orchestrations/activities/plan";
import {
  DEMO_POLICY as POLICY,
  passSettings,
  DEMO_SUBSCRIPTION as SUBSCRIPTION,
} from "../helpers/pass-settings";
import { ROOT } from "../helpers/paths";
import { emulatorConnection } from "../local/arm-emulator-helpers";

let emulator: ArmEmulator;
beforeAll(async () => {
  emulator = await startArmEmulator({
    seedFile: path.join(ROOT, "local", "demo", "estates", "azurecloud.json"),
  });
});
afterAll(async () => emulator.close());

const settings = (extra: Partial<PassSettings> = {}) => passSettings([SUBSCRIPTION], [POLICY], extra);

async function shown(extra: Partial<PassSettings> = {}) {
  const estate = await readEstateClusters(emulatorConnection(emulator), [POLICY], settings(extra));
  const clusters = estate.get(POLICY.toLowerCase());
  if (!clusters?.read) throw new Error(`not read: ${JSON.stringify(clusters)}`);
  return clusters;
}

describe("the estate page on the demo estate", () => {
  it("shows the untagged cluster its routes lead to, mapped by routes, and the tagged ones by tag", async () => {
    const clusters = await shown();
    expect(Object.fromEntries(clusters.clusters.map((c) => [c.name, c.mappedBy]))).toEqual({
      "aks-weu-batch": "tag",
      "aks-weu-prod": "tag",
      "aks-weu-web": "routes",
    });
    // Exactly the clusters a pass serves.
    const { gathered } = await checkPolicy(emulatorConnection(emulator), POLICY, settings());
    expect(clusters.clusters.map((c) => c.name).sort()).toEqual(gathered.clusters.map((c) => c.name).sort());

    const text = estatePage({
      generatedAt: "2025-03-01T08:00:00.000Z",
      mode: "approve",
      policies: [
        {
          policyId: POLICY,
          name: "fw-hub-westeurope",
          instanceId: "policy-0",
          runtimeStatus: "NotStarted",
          drift: { state: "unknown", summary: "not known yet" },
          recent: [],
          clusters,
        },
      ],
    }).text;
    expect(text).toMatch(
      /<span class="mono">aks-weu-web<\/span><\/td>.*<td class="kind" title="[^"]*">routes<\/td><\/tr>/,
    );
    expect(text).not.toContain("aks-weu-sandbox");
  });

  it("the cluster whose route bypasses the firewall is the default policy's only when it takes untagged ones", async () => {
    const clusters = await shown({ defaultPolicyId: POLICY, includeUntaggedWhenDefault: true });
    expect(clusters.clusters.find((c) => c.name === "aks-weu-sandbox")?.mappedBy).toBe("untagged default");
    expect(clusters.clusters.find((c) => c.name === "aks-weu-web")?.mappedBy).toBe("routes");
  });
});
