// Network events through the whole app (the local Functions host, the real durable-functions replay,
// the ARM emulator): each reconciler keeps its pass's egress index in its input across continueAsNew,
// the Event Grid function reads those indexes and the changed resource, and wakes only the policies
// concerned. Before this, every network event woke every policy in scope.
import { afterEach, describe, expect, it } from "vitest";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import { instanceIdFor } from "../../orchestrations/instance-id";
import type { ReconcilerInput, ReconcilerStatus } from "../../orchestrations/reconciler";
import { isEgressIndex } from "../../topology";
import { networkEvent } from "../functions/network-events";
import { IDS, LEGACY_FIREWALL_IP, routedClusters, SPOKE_SUB, topologySeed } from "../topology/estate";
import { type AppUnderTest, startApp } from "./app-harness";

const POLICIES = [IDS.policy, IDS.legacyPolicy, IDS.vwanPolicy];

let app: AppUnderTest | undefined;
let emulator: ArmEmulator | undefined;
afterEach(async () => {
  await app?.close();
  await emulator?.close();
  app = undefined;
  emulator = undefined;
});

interface Instance {
  runtimeStatus: string;
  input: ReconcilerInput;
  customStatus: ReconcilerStatus;
}

async function instance(policyId: string): Promise<Instance> {
  const response = await (app as AppUnderTest).durable(`instances/${instanceIdFor(policyId)}?showInput=true`);
  return (await response.json()) as Instance;
}

/** Waits until each policy's reconciler has recorded pass `passes[i]` and is idle again. */
async function settled(passes: number[], timeoutMs = 30_000): Promise<Instance[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await Promise.all(POLICIES.map(instance));
    if (
      all.every(
        (s, i) => s.customStatus?.phase === "idle" && (s.customStatus.last?.pass ?? 0) >= (passes[i] ?? 0),
      )
    )
      return all;
    if (Date.now() > deadline)
      throw new Error(
        `timed out: ${JSON.stringify(all.map((s) => [s.customStatus?.phase, s.customStatus?.last?.pass]))}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("network events through the app", () => {
  it("a route table re-pointed to another policy's firewall wakes the two policies concerned, and an unrelated table none", async () => {
    emulator = await startArmEmulator({
      lroDelayMs: 20,
      seed: {
        ...topologySeed(),
        managedClusters: routedClusters(),
      },
    });
    app = await startApp({
      emulator,
      settings: {
        AKS_EGRESS_FIREWALL_POLICIES: POLICIES.join(","),
        AKS_EGRESS_SUBSCRIPTIONS: SPOKE_SUB,
        AKS_EGRESS_MODE: "audit",
      },
    });

    // Before any pass, no reconciler has an index: a network event wakes every policy, and says why.
    expect(
      await app.sendEvents([networkEvent("Microsoft.Network/routeTables/write", IDS.rtUnknownAppliance)]),
    ).toBe(202);
    const first = await settled([1, 1, 1]);
    expect(app.events("AksEgressGuard.EventAccepted")).toEqual([
      expect.objectContaining({
        policies: POLICIES,
        detail: expect.stringMatching(/\(every policy in scope: fw-policy-hub: no reconciler yet; /),
      }),
    ]);
    // Each keeps its pass's index in its input (carried across continueAsNew), never in its status.
    for (const s of first) {
      expect(s.input.egress?.pass).toBe(s.customStatus.last?.pass);
      expect(isEgressIndex(s.input.egress?.index)).toBe(true);
      expect(JSON.stringify(s.customStatus)).not.toMatch(/touched|ownIps/);
    }

    emulator.upsert({
      id: IDS.rtToFirewall,
      location: "westeurope",
      properties: {
        disableBgpRoutePropagation: true,
        routes: [
          {
            name: "default",
            properties: {
              addressPrefix: "0.0.0.0/0",
              nextHopType: "VirtualAppliance",
              nextHopIpAddress: LEGACY_FIREWALL_IP,
            },
          },
        ],
      },
    });
    expect(
      await app.sendEvents([networkEvent("Microsoft.Network/routeTables/write", IDS.rtToFirewall)]),
    ).toBe(202);
    const passes = first.map((s) => s.customStatus.last?.pass ?? 0);
    const after = await settled([(passes[0] ?? 0) + 1, (passes[1] ?? 0) + 1, passes[2] ?? 0]);
    expect(app.events("AksEgressGuard.EventAccepted").at(-1)).toMatchObject({
      policies: [IDS.policy, IDS.legacyPolicy],
      detail: expect.stringMatching(
        /\(concerns 2 of 3 policies: fw-policy-hub by its clusters' route table; fw-policy-legacy: /,
      ),
    });
    expect(after.map((s) => s.customStatus.last?.clusterCount)).toEqual([0, 2, 1]);
    expect(after[2]?.customStatus.last?.pass).toBe(passes[2]);

    const dropped = app.events("AksEgressGuard.EventDropped").length;
    await app.sendEvents([networkEvent("Microsoft.Network/routeTables/write", IDS.rtInternet)]);
    await new Promise((r) => setTimeout(r, 500));
    expect(app.events("AksEgressGuard.EventDropped").slice(dropped)).toEqual([
      expect.objectContaining({
        reason: "route table rt-internet leads to no policy in scope and carries no served cluster's traffic",
      }),
    ]);
  }, 90_000);
});
