// Network events narrowed end to end against the ARM emulator: each policy's egress index comes from
// a real pass (gatherPolicy, the real SDK), and the changed resource is read with the app's own
// network reader. A route table re-pointed from one policy's firewall to another's wakes exactly those
// two policies (a fresh pass agrees that both changed), and a write to an unrelated table wakes none.
// Before this, every network event woke every policy in scope.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { networkReader } from "../../azure/event-target";
import { type EventReaders, narrowArmEvent } from "../../functions/events/arm-event";
import { type ArmEmulator, type ArmResource, startArmEmulator } from "../../local/arm-emulator";
import { gatherPolicy } from "../../orchestrations/activities/gather";
import { loadSettings } from "../../orchestrations/settings";
import { type IndexView, resourceKey } from "../../topology";
import { passSettings } from "../helpers/pass-settings";
import { emulatorConnection } from "../local/arm-emulator-helpers";
import { IDS, LEGACY_FIREWALL_IP, routedClusters, SPOKE_SUB, topologySeed } from "../topology/estate";
import { networkEvent } from "./network-events";

const POLICIES = [IDS.policy, IDS.legacyPolicy, IDS.vwanPolicy];
const app = loadSettings({
  AKS_EGRESS_FIREWALL_POLICIES: POLICIES.join(","),
  AKS_EGRESS_SUBSCRIPTIONS: SPOKE_SUB,
  AKS_EGRESS_APPROVAL_SIGNING_KEY: "x".repeat(40),
  AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
});
const pass = passSettings([SPOKE_SUB], POLICIES);

const routeTable = (
  id: string,
  nextHop: { nextHopType: string; nextHopIpAddress?: string },
): ArmResource => ({
  id,
  location: "westeurope",
  properties: {
    disableBgpRoutePropagation: true,
    routes: [{ name: "default", properties: { addressPrefix: "0.0.0.0/0", ...nextHop } }],
  },
});

let emulator: ArmEmulator;
beforeEach(async () => {
  emulator = await startArmEmulator({
    seed: {
      ...topologySeed(),
      // Untagged: each is served by the policy its routes lead to.
      managedClusters: routedClusters(),
    },
  });
});
afterEach(async () => {
  await emulator.close();
});

/** One pass per policy, as the reconcilers would run them: who serves which cluster, and the indexes. */
async function passes(policies = POLICIES, settings = pass) {
  const connection = emulatorConnection(emulator);
  const gathered = await Promise.all(policies.map((p) => gatherPolicy(connection, p, settings)));
  return {
    served: policies.map((_, i) => (gathered[i]?.clusters ?? []).map((c) => c.name).sort()),
    views: new Map<string, IndexView>(
      policies.map((p, i) => [resourceKey(p), { index: gathered[i]?.egressIndex } as IndexView]),
    ),
  };
}

/** The function's readers, with the indexes of those passes in place of the reconcilers'. */
function readers(views: Map<string, IndexView>): EventReaders {
  return {
    indexes: async () => views,
    network: networkReader(() => emulatorConnection(emulator)),
  };
}

describe("network events against the emulator, with indexes from real passes", () => {
  it("re-pointing an untagged cluster's route table to another policy's firewall wakes exactly the policy it left and the one it reaches", async () => {
    const before = await passes();
    expect(before.served).toEqual([["aks-routed"], ["aks-legacy"], ["aks-vwan"]]);

    emulator.upsert(
      routeTable(IDS.rtToFirewall, { nextHopType: "VirtualAppliance", nextHopIpAddress: LEGACY_FIREWALL_IP }),
    );
    const narrowed = await narrowArmEvent(
      networkEvent("Microsoft.Network/routeTables/write", IDS.rtToFirewall),
      app,
      readers(before.views),
    );
    expect(narrowed).toMatchObject({
      kind: "signal",
      policies: [IDS.policy, IDS.legacyPolicy],
      reason: {
        detail: expect.stringMatching(
          /\(concerns 2 of 3 policies: fw-policy-hub by its clusters' route table; fw-policy-legacy: now reached through its firewall's IP 10\.0\.2\.4\)$/,
        ),
      },
    });

    // A fresh pass agrees: those two changed, the third did not.
    const after = await passes();
    expect(after.served).toEqual([[], ["aks-legacy", "aks-routed"], ["aks-vwan"]]);
  });

  it("a write to a route table no served cluster uses, leading to no policy, wakes none", async () => {
    const { views } = await passes();
    emulator.upsert(routeTable(IDS.rtUnknownAppliance, { nextHopType: "Internet" }));
    expect(
      await narrowArmEvent(
        networkEvent("Microsoft.Network/routeTables/write", IDS.rtUnknownAppliance),
        app,
        readers(views),
      ),
    ).toMatchObject({
      kind: "drop",
      reason:
        "route table rt-unknown-appliance leads to no policy in scope and carries no served cluster's traffic",
    });
  });

  it("a firewall moved to another policy wakes the policy that had it and the one it has now", async () => {
    const { views } = await passes();
    const [firewall] = topologySeed().azureFirewalls?.filter((f) => f.id === IDS.legacyFirewall) ?? [];
    emulator.upsert({
      ...(firewall as ArmResource),
      properties: { ...(firewall?.properties ?? {}), firewallPolicy: { id: IDS.vwanPolicy } },
    });
    expect(
      await narrowArmEvent(
        networkEvent("Microsoft.Network/azureFirewalls/write", IDS.legacyFirewall),
        app,
        readers(views),
      ),
    ).toMatchObject({ kind: "signal", policies: [IDS.legacyPolicy, IDS.vwanPolicy] });
    expect((await passes()).served).toEqual([["aks-routed"], [], ["aks-legacy", "aks-vwan"]]);
  });

  it("a route table ARM fails to read (500) wakes every policy in scope, and says so", async () => {
    const { views } = await passes();
    emulator.injectFault({
      kind: "serverError",
      pathContains: "/routeTables/rt-unknown-appliance",
      times: 20,
    });
    expect(
      await narrowArmEvent(
        networkEvent("Microsoft.Network/routeTables/write", IDS.rtUnknownAppliance),
        app,
        readers(views),
      ),
    ).toMatchObject({
      kind: "signal",
      policies: POLICIES,
      reason: {
        detail: expect.stringMatching(
          /\(every policy in scope: route table rt-unknown-appliance could not be read: /,
        ),
      },
    });
  });

  it("a route deleted: its table is read, and the policies whose clusters it carries are woken", async () => {
    const { views } = await passes();
    const narrowed = await narrowArmEvent(
      networkEvent("Microsoft.Network/routeTables/routes/delete", `${IDS.rtLegacy}/routes/default-legacy`),
      app,
      readers(views),
    );
    expect(narrowed).toMatchObject({ kind: "signal", policies: [IDS.legacyPolicy] });
  });

  it("a route table ARM no longer knows (404) and no served cluster used: dropped", async () => {
    const { views } = await passes();
    const gone = IDS.rtLegacy.replace("rt-legacy", "rt-gone");
    expect(
      await narrowArmEvent(networkEvent("Microsoft.Network/routeTables/write", gone), app, readers(views)),
    ).toMatchObject({
      kind: "drop",
      reason: "route table rt-gone is gone and carried no served cluster's traffic",
    });
  });
});

describe("the default policy that takes untagged clusters", () => {
  // fw-policy-legacy is out of scope: aks-legacy, routed to its firewall, is served by no policy.
  const inScope = [IDS.policy, IDS.vwanPolicy];
  const settings = passSettings([SPOKE_SUB], inScope, {
    defaultPolicyId: IDS.vwanPolicy,
    includeUntaggedWhenDefault: true,
  });
  const appSettings = loadSettings({
    AKS_EGRESS_FIREWALL_POLICIES: IDS.policy,
    AKS_EGRESS_DEFAULT_FIREWALL_POLICY: IDS.vwanPolicy,
    AKS_EGRESS_INCLUDE_UNTAGGED: "true",
    AKS_EGRESS_SUBSCRIPTIONS: SPOKE_SUB,
    AKS_EGRESS_APPROVAL_SIGNING_KEY: "x".repeat(40),
    AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
  });

  it("is woken when an untagged cluster no policy served loses its route to a firewall (it now takes that cluster)", async () => {
    const before = await passes(inScope, settings);
    expect(before.served).toEqual([["aks-routed"], ["aks-vwan"]]);
    emulator.upsert(routeTable(IDS.rtLegacy, { nextHopType: "Internet" }));
    expect(
      await narrowArmEvent(
        networkEvent("Microsoft.Network/routeTables/write", IDS.rtLegacy),
        appSettings,
        readers(before.views),
      ),
    ).toMatchObject({ kind: "signal", policies: [IDS.vwanPolicy] });
    expect((await passes(inScope, settings)).served).toEqual([["aks-routed"], ["aks-legacy", "aks-vwan"]]);
  });
});
