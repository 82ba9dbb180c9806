// Feature detection from what ARM returns: a managedCluster's JSON as the emulator serves it, read
// through the real SDK client (azure/clusters.ts) and turned into features (drift/cluster-profile.ts).
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArmConnection } from "../../azure/clients";
import { readCluster } from "../../azure/clusters";
import { detectFeatures } from "../../drift/cluster-profile";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import { emulatorConnection, SMALL_ESTATE } from "../local/arm-emulator-helpers";

const NAME = "aks-features";

let emulator: ArmEmulator;
let connection: ArmConnection;
let seed: { id: string; properties: Record<string, unknown> } & Record<string, unknown>;

beforeAll(async () => {
  emulator = await startArmEmulator({ seedFile: SMALL_ESTATE, lroDelayMs: 20 });
  connection = emulatorConnection(emulator);
  const estate = JSON.parse(fs.readFileSync(SMALL_ESTATE, "utf8")) as { managedClusters: (typeof seed)[] };
  const cluster = estate.managedClusters[0];
  if (cluster === undefined) throw new Error("the small estate has no cluster");
  seed = cluster;
});
afterAll(async () => emulator.close());

async function featuresOf(properties: Record<string, unknown>) {
  const id = seed.id.replace(/[^/]+$/, NAME);
  emulator.upsert({
    ...structuredClone(seed),
    id,
    name: NAME,
    properties: { ...seed.properties, addonProfiles: {}, ...properties },
  } as never);
  const facts = await readCluster(connection, id);
  if (facts === undefined) throw new Error("cluster not found");
  return detectFeatures({ ...facts, agentPools: [] });
}

describe("features from a managedCluster's ARM JSON", () => {
  it("reads workload identity, Istio, application routing, cost analysis and App Insights", async () => {
    expect(
      await featuresOf({
        securityProfile: { workloadIdentity: { enabled: true } },
        oidcIssuerProfile: { enabled: true },
        serviceMeshProfile: { mode: "Istio", istio: { revisions: ["asm-1-24"] } },
        ingressProfile: { webAppRouting: { enabled: true } },
        metricsProfile: { costAnalysis: { enabled: true } },
        azureMonitorProfile: { appMonitoring: { autoInstrumentation: { enabled: true } } },
      }),
    ).toEqual(["azure-monitor", "cost-analysis", "workload-identity", "istio", "application-routing"]);
  });

  it("reads nothing from profiles that are off, and the OIDC issuer alone is not workload identity", async () => {
    expect(
      await featuresOf({
        securityProfile: { workloadIdentity: { enabled: false } },
        oidcIssuerProfile: { enabled: true },
        serviceMeshProfile: { mode: "Disabled" },
        ingressProfile: { webAppRouting: { enabled: false } },
        metricsProfile: { costAnalysis: { enabled: false } },
      }),
    ).toEqual([]);
  });
});
