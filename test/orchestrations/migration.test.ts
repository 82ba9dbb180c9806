// Moving a per-cluster managed group to the shared layout, end to end: in auto mode, with nothing
// removed, the app still asks a person, writes once on approval, and leaves only shared collections.
import fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { collectionName, ownedDescription } from "../../drift";
import { POLICY_ID, SMALL_ESTATE } from "../local/arm-emulator-helpers";
import { type AppUnderTest, startApp } from "./app-harness";

const clusterEvent = () => ({
  ...(JSON.parse(
    fs.readFileSync(path.join(__dirname, "..", "fixtures", "events", "cluster-write.eventgrid.json"), "utf8"),
  ) as Record<string, unknown>),
  id: "7b000000-0000-4000-8000-000000000001",
});

interface Seed {
  managedClusters: {
    id: string;
    name: string;
    properties: { agentPoolProfiles: { vnetSubnetID: string }[] };
  }[];
  subnets: { id: string; properties: { addressPrefix: string } }[];
  ruleCollectionGroups: Record<string, unknown>[];
}

/** The small estate with a managed group in the old layout: one collection naming its cluster. */
function perClusterEstate(): string {
  const seed = JSON.parse(fs.readFileSync(SMALL_ESTATE, "utf8")) as Seed;
  const [cluster] = seed.managedClusters;
  if (cluster === undefined) throw new Error("no cluster in the small estate");
  const cidrs = cluster.properties.agentPoolProfiles.map(
    (p) =>
      seed.subnets.find((s) => s.id.toLowerCase() === p.vnetSubnetID.toLowerCase())?.properties.addressPrefix,
  );
  seed.ruleCollectionGroups.push({
    id: `${POLICY_ID}/ruleCollectionGroups/aks-egress-guard`,
    name: "aks-egress-guard",
    type: "Microsoft.Network/FirewallPolicies/RuleCollectionGroups",
    etag: 'W/"00000000-0000-4000-8000-0000000000aa"',
    properties: {
      provisioningState: "Succeeded",
      priority: 300,
      ruleCollections: [
        {
          ruleCollectionType: "FirewallPolicyFilterRuleCollection",
          name: collectionName(cluster, "app"),
          priority: 100,
          action: { type: "Allow" },
          rules: [
            {
              ruleType: "ApplicationRule",
              name: "app-mcr.microsoft.com",
              description: ownedDescription(cluster.id, "base: Microsoft Container Registry."),
              sourceAddresses: cidrs,
              protocols: [{ protocolType: "Https", port: 443 }],
              targetFqdns: ["mcr.microsoft.com"],
            },
          ],
        },
      ],
    },
  });
  const file = path.join(fs.mkdtempSync(path.join(tmpdir(), "aks-egress-migration-")), "estate.json");
  fs.writeFileSync(file, JSON.stringify(seed));
  return file;
}

let app: AppUnderTest | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe("layout migration", () => {
  it("asks a person even in auto mode, then moves the group in one write", async () => {
    app = await startApp({ seedFile: perClusterEstate(), settings: { AKS_EGRESS_MODE: "auto" } });
    await app.sendEvents([clusterEvent()]);
    const waiting = await app.waitForPhase("awaiting-approval", 60_000);
    expect(waiting.pendingApproval?.reasons[0]).toMatch(
      /^layout migration: 1 per-cluster collections become \d+ shared rules \(needs a person's approval\)$/,
    );
    // Nothing the old rule allowed is lost: the move removes no access, and nothing is written yet.
    expect(waiting.plan?.removed).toBe(0);
    expect(app.successfulPuts()).toBe(0);

    const link = app.approvalLinks().at(-1) ?? "";
    const decided = await fetch(link, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ decision: "approve" }),
    });
    expect(decided.status).toBe(200);
    expect((await app.waitForPass(1)).last?.outcome).toBe("applied");
    expect(app.successfulPuts()).toBe(1);
    const group = (
      app.emulator.state().ruleCollectionGroups as unknown as {
        name: string;
        properties: { ruleCollections: { name: string }[] };
      }[]
    ).find((g) => g.name === "aks-egress-guard");
    expect(group?.properties.ruleCollections.map((c) => c.name)).toEqual([
      "aks-egress-shared-app",
      "aks-egress-shared-net",
    ]);
  }, 90_000);
});
