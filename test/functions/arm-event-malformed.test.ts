// Malformed ARM events, however nested, large or mistyped: narrowing never throws and does bounded
// work, and through the real app (local host, Event Grid webhook) each is dropped with one
// AksEgressGuard.EventDropped line and answered 2xx (or 400/413, which Event Grid does not retry),
// never 5xx (which Event Grid would retry for 24 h).
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { narrowArmEvent, shapeProblem } from "../../functions/events/arm-event";
import { loadSettings } from "../../orchestrations/settings";
import { type AppUnderTest, startApp } from "../orchestrations/app-harness";

const POLICY =
  "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-network-weu/providers/Microsoft.Network/firewallPolicies/fw-policy";
const settings = loadSettings({
  AKS_EGRESS_FIREWALL_POLICIES: POLICY,
  AKS_EGRESS_APPROVAL_SIGNING_KEY: "x".repeat(40),
  AKS_EGRESS_APP_OBJECT_ID: "9d3f6b2e-5a4c-4e1f-9b8a-7c6d5e4f3a21",
  AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
});
const fixtureText = (name: string): string =>
  fs.readFileSync(path.join(__dirname, "..", "fixtures", "events", name), "utf8");
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(fixtureText(name)) as Record<string, unknown>;

const DEPTH = 10_000;
const deepArrayText = `${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}`;
const deepObjectText = `${'{"a":'.repeat(DEPTH)}1${"}".repeat(DEPTH)}`;
const deepArray = (): unknown => JSON.parse(deepArrayText);
const deepObject = (): unknown => JSON.parse(deepObjectText);

function withData(data: Record<string, unknown>): Record<string, unknown> {
  const event = fixture("cluster-write.eventgrid.json");
  return { ...event, data: { ...(event.data as Record<string, unknown>), ...data } };
}

const MALFORMED: [string, () => unknown][] = [
  ["an array nested 10,000 deep", deepArray],
  ["an object nested 10,000 deep", deepObject],
  ["data nested 10,000 deep", () => ({ ...fixture("cluster-write.eventgrid.json"), data: deepObject() })],
  ["a claim nested 10,000 deep", () => withData({ claims: { oid: deepArray() } })],
  [
    "a CloudEvent extension nested 10,000 deep",
    () => ({ ...fixture("agentpool-write.cloudevent.json"), ext: deepObject() }),
  ],
  ["100,000 values", () => withData({ padding: Array.from({ length: 100_000 }, () => 0) })],
  [
    "an object with 50,000 keys",
    () => withData({ padding: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])) }),
  ],
  ["2 MB of text", () => withData({ padding: "x".repeat(2 * 1024 * 1024) })],
  [
    "a 300 KB event type",
    () => ({ ...fixture("cluster-write.eventgrid.json"), eventType: "t".repeat(300_000) }),
  ],
  ["a 300 KB resource URI", () => withData({ resourceUri: `/subscriptions/${"r".repeat(300_000)}` })],
  ["a 300 KB operation name", () => withData({ operationName: "o".repeat(300_000) })],
  ["a 300 KB key", () => withData({ ["k".repeat(300_000)]: 1, operationName: 5 })],
  ["a number id", () => ({ ...fixture("cluster-write.eventgrid.json"), id: 7 })],
  ["data that is an array", () => ({ ...fixture("cluster-write.eventgrid.json"), data: [1, 2] })],
  ["data that is text", () => ({ ...fixture("cluster-write.eventgrid.json"), data: "text" })],
  ["null", () => null],
  ["a number", () => 42],
  ["an array of events", () => [fixture("cluster-write.eventgrid.json")]],
];

/** Odd but readable: narrowed as usual, with what is quoted from them clipped. */
const ODD: [string, () => unknown][] = [
  ["an object claim", () => withData({ claims: { appid: { toString: "x" }, oid: [1, [2]] } })],
  ["a 300 KB event id", () => ({ ...fixture("cluster-write.eventgrid.json"), id: "i".repeat(300_000) })],
];

describe("narrowing malformed ARM events", () => {
  it.each(MALFORMED)("drops %s with a short reason, without throwing", async (_, make) => {
    const narrowed = await narrowArmEvent(make(), settings);
    expect(narrowed.kind).toBe("drop");
    if (narrowed.kind !== "drop") return;
    expect(narrowed.reason.length).toBeLessThanOrEqual(1100);
    expect((narrowed.eventId ?? "").length).toBeLessThanOrEqual(300);
    // What the handler logs for it is one short line.
    expect(JSON.stringify({ eventId: narrowed.eventId ?? "", reason: narrowed.reason }).length).toBeLessThan(
      2000,
    );
  });

  it.each(ODD)("narrows an event with %s without throwing, quoting it clipped", async (_, make) => {
    const narrowed = await narrowArmEvent(make(), settings);
    expect(narrowed.kind).toBe("signal");
    if (narrowed.kind !== "signal") return;
    expect((narrowed.reason.eventId ?? "").length).toBeLessThanOrEqual(300);
    expect(narrowed.reason.detail.length).toBeLessThanOrEqual(2300);
  });

  it("names the problem of an event too deep or too big", async () => {
    expect(await narrowArmEvent(deepObject(), settings)).toMatchObject({
      reason: "malformed event: nested deeper than 32 levels",
    });
    expect(shapeProblem(deepArray())).toBe("nested deeper than 32 levels");
    expect(shapeProblem(Array.from({ length: 100_000 }, () => 0))).toBe("more than 10000 values");
    expect(shapeProblem({ a: "x".repeat(2 * 1024 * 1024) })).toMatch(/characters of text/);
    expect(shapeProblem(fixture("cluster-write.eventgrid.json"))).toBeUndefined();
  });

  it("still wakes the reconcilers for a well-formed event", async () => {
    expect(await narrowArmEvent(fixture("rcg-write.eventgrid.json"), settings)).toMatchObject({
      kind: "signal",
    });
  });
});

describe("the Event Grid webhook with malformed ARM events (the app in the local host)", () => {
  let app: AppUnderTest;
  beforeAll(async () => {
    app = await startApp();
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  const deliver = async (body: string) => {
    const response = await fetch(
      `${app.host.url}/runtime/webhooks/eventgrid?functionName=armEvents&code=${app.host.keys.system.eventgrid_extension}`,
      {
        method: "POST",
        headers: { "aeg-event-type": "Notification", "Content-Type": "application/json" },
        body,
      },
    );
    await response.text();
    return response.status;
  };
  const dropped = () => app.events("AksEgressGuard.EventDropped");

  it("answers 202 to JSON nested 10,000 deep (not 500) and logs one EventDropped line per event", async () => {
    for (const body of [
      deepArrayText,
      `[${deepObjectText}]`,
      deepObjectText,
      `[${JSON.stringify({ ...fixture("cluster-write.eventgrid.json"), data: "x" }).slice(0, -1)},"extra":${deepObjectText}}]`,
    ]) {
      const before = dropped().length;
      expect(await deliver(body)).toBe(202);
      expect(dropped().slice(before)).toEqual([
        expect.objectContaining({ reason: expect.stringMatching(/^malformed event: /) }),
      ]);
    }
  });

  it("drops every malformed event of a batch with its own line and still accepts the good one", async () => {
    const good = fixture("agentpool-write.eventgrid.json");
    // Those nested 10,000 deep cannot be written with JSON.stringify (the test above sends them), and
    // the big ones would pass 1 MiB together: each of those is delivered alone.
    const alone = /10,000|2 MB|100,000|50,000/;
    for (const [name, make] of MALFORMED.filter(([n]) => /300 KB/.test(n))) {
      const before = dropped().length;
      expect(await deliver(JSON.stringify([make()])), name).toBe(202);
      expect(dropped().slice(before), name).toHaveLength(1);
    }
    const bad = MALFORMED.filter(([name]) => !alone.test(name) && !/300 KB/.test(name)).map(([, make]) =>
      make(),
    );
    const before = dropped().length;
    const accepted = app.events("AksEgressGuard.EventAccepted").length;
    expect(await deliver(JSON.stringify([...bad, good]))).toBe(202);
    expect(dropped().slice(before)).toHaveLength(bad.length);
    expect(app.events("AksEgressGuard.EventAccepted").slice(accepted)).toHaveLength(1);
  });

  it("answers 413 to a delivery over 1 MiB and 400 to one that is not JSON; never 5xx", async () => {
    expect(await deliver(JSON.stringify([withData({ padding: "x".repeat(2 * 1024 * 1024) })]))).toBe(413);
    expect(await deliver("{{ not json")).toBe(400);
    const failed = app.logs.filter(
      (l) => (l.kind === "invocation" && l.result === "Failed") || (l.kind === "host" && l.level === "error"),
    );
    expect(failed).toEqual([]);
  });
});
