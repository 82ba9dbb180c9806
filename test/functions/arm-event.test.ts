// Narrowing ARM events (Event Grid schema and CloudEvents 1.0) to the reconcilers they concern.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { narrowArmEvent } from "../../functions/events/arm-event";
import { loadSettings } from "../../orchestrations/settings";

const POLICY =
  "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-network-weu/providers/Microsoft.Network/firewallPolicies/fw-policy";
const OTHER =
  "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-network-neu/providers/Microsoft.Network/firewallPolicies/fw-neu";
const settings = loadSettings({
  AKS_EGRESS_FIREWALL_POLICIES: `${POLICY},${OTHER}`,
  AKS_EGRESS_APPROVAL_SIGNING_KEY: "x".repeat(40),
  AKS_EGRESS_APP_OBJECT_ID: "9d3f6b2e-5a4c-4e1f-9b8a-7c6d5e4f3a21",
  AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
});
const fixture = (name: string): unknown =>
  JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "events", name), "utf8"));

describe("ARM event narrowing", () => {
  it.each([
    ["cluster-write.eventgrid.json", [POLICY, OTHER]],
    ["cluster-write-uppercase.eventgrid.json", [POLICY, OTHER]],
    ["agentpool-write.eventgrid.json", [POLICY, OTHER]],
    ["agentpool-write.cloudevent.json", [POLICY, OTHER]],
    ["cluster-delete.eventgrid.json", [POLICY, OTHER]],
    ["rcg-write.eventgrid.json", [POLICY]],
  ])("%s wakes %j", async (name, policies) => {
    const narrowed = await narrowArmEvent(fixture(name), settings);
    expect(narrowed).toMatchObject({ kind: "signal", policies, reason: { source: "event" } });
  });

  it("keeps the event id and operation in the reason", async () => {
    const narrowed = await narrowArmEvent(fixture("rcg-write.eventgrid.json"), settings);
    expect(narrowed).toMatchObject({
      reason: {
        eventId: "5b4f3c2a-1111-4222-8333-944455550004",
        detail: expect.stringMatching(
          /^Microsoft.Network\/firewallPolicies\/ruleCollectionGroups\/write \/subscriptions/,
        ),
      },
    });
  });

  it.each([
    ["rcg-write-by-app.eventgrid.json", /caused by this app's own identity/],
    ["storage-write.eventgrid.json", /operation Microsoft.Storage\/storageAccounts\/write is not in scope/],
  ])("drops %s", async (name, reason) => {
    expect(await narrowArmEvent(fixture(name), settings)).toMatchObject({
      kind: "drop",
      reason: expect.stringMatching(reason),
    });
  });

  it("drops events about a policy it does not manage", async () => {
    const event = fixture("rcg-write.eventgrid.json") as { data: { resourceUri: string } };
    event.data.resourceUri = event.data.resourceUri.replace("fw-policy", "someone-elses");
    expect(await narrowArmEvent(event, settings)).toMatchObject({
      kind: "drop",
      reason: expect.stringMatching(/not in scope/),
    });
  });

  it("recognises the app by its client ID too", async () => {
    const byClient = loadSettings({
      AKS_EGRESS_FIREWALL_POLICIES: POLICY,
      AKS_EGRESS_APPROVAL_SIGNING_KEY: "x".repeat(40),
      AKS_EGRESS_APP_CLIENT_ID: "3F2B9C1E-0000-4000-8000-00000000ABCD",
      AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
    });
    expect(await narrowArmEvent(fixture("rcg-write-by-app.eventgrid.json"), byClient)).toMatchObject({
      kind: "drop",
    });
  });

  it.each([
    ["not an object", "hello"],
    ["no envelope fields", { foo: 1 }],
    ["no data", { ...(fixture("cluster-write.eventgrid.json") as object), data: undefined }],
    [
      "data without operationName",
      { ...(fixture("cluster-write.eventgrid.json") as object), data: { resourceUri: "/x" } },
    ],
    ["a CloudEvent without type", { specversion: "1.0", id: "1", source: "/s", data: {} }],
  ])("drops a malformed event (%s) with a reason instead of throwing", async (_, raw) => {
    const narrowed = await narrowArmEvent(raw, settings);
    expect(narrowed.kind).toBe("drop");
    expect(narrowed.kind === "drop" && narrowed.reason).toMatch(/malformed/);
  });
});
