// The Event Grid trigger's webhook: the subscription validation handshake and notification delivery
// in the Event Grid schema (an array) and the CloudEvents 1.0 schema (one object), as the Event
// Grid extension serves them at /runtime/webhooks/eventgrid?functionName=NAME.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SampleHost, startSampleHost } from "./sample-host";

let sample: SampleHost;
let webhook: string;
beforeAll(async () => {
  sample = await startSampleHost();
  webhook = `${sample.host.url}/runtime/webhooks/eventgrid?functionName=onResourceEvent&code=${sample.host.keys.system.eventgrid_extension}`;
});
afterAll(async () => {
  await sample.host.close();
});

const CLUSTER =
  "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1";

function gridEvent(subject = CLUSTER) {
  return {
    id: randomUUID(),
    topic: "/subscriptions/0000",
    subject,
    eventType: "Microsoft.Resources.ResourceWriteSuccess",
    eventTime: "2024-05-01T10:00:00.000Z",
    dataVersion: "2",
    metadataVersion: "1",
    data: {
      operationName: "Microsoft.ContainerService/managedClusters/write",
      resourceUri: subject,
      status: "Succeeded",
    },
  };
}

function cloudEvent(subject = CLUSTER) {
  return {
    specversion: "1.0",
    id: randomUUID(),
    source: "/subscriptions/0000",
    subject,
    type: "Microsoft.Resources.ResourceWriteSuccess",
    time: "2024-05-01T10:00:00.000Z",
    data: { operationName: "Microsoft.ContainerService/managedClusters/write", resourceUri: subject },
  };
}

function post(
  body: unknown,
  eventType: string | undefined,
  target = webhook,
  contentType = "application/json",
) {
  return fetch(target, {
    method: "POST",
    headers: {
      "content-type": contentType,
      ...(eventType === undefined ? {} : { "aeg-event-type": eventType }),
    },
    body: JSON.stringify(body),
  });
}

describe("subscription validation handshake", () => {
  it("echoes the validation code of an Event Grid schema validation event", async () => {
    const response = await post(
      [
        {
          id: randomUUID(),
          topic: "/subscriptions/0000",
          subject: "",
          eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
          eventTime: "2024-05-01T10:00:00Z",
          dataVersion: "2",
          metadataVersion: "1",
          data: { validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6", validationUrl: "https://example" },
        },
      ],
      "SubscriptionValidation",
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" });
  });

  it("reads the code of a CloudEvents validation event whose data is JSON text", async () => {
    const response = await post(
      {
        specversion: "1.0",
        id: randomUUID(),
        source: "/subscriptions/0000",
        type: "Microsoft.EventGrid.SubscriptionValidationEvent",
        data: JSON.stringify({ validationCode: "cloud-code" }),
      },
      "SubscriptionValidation",
      webhook,
      "application/cloudevents+json",
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ validationResponse: "cloud-code" });
  });

  it("does not invoke the function for a handshake", () => {
    expect(sample.invocations("onResourceEvent")).toHaveLength(0);
  });
});

describe("notification delivery", () => {
  it("invokes the function once per event of an Event Grid schema batch, with the event as sent", async () => {
    const events = [gridEvent(), gridEvent(`${CLUSTER}/agentPools/np1`)];
    const before = sample.effects().length;
    const response = await post(events, "Notification");
    expect(response.status).toBe(202);
    const received = sample.effects().slice(before);
    expect(received).toHaveLength(2);
    expect(received.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
    const first = received.find((e) => e.id === events[0]?.id);
    expect(first).toMatchObject({
      kind: "eventGrid",
      eventType: "Microsoft.Resources.ResourceWriteSuccess",
      subject: CLUSTER,
      data: events[0]?.data,
    });
  });

  it("invokes the function with a single CloudEvent object as sent", async () => {
    const event = cloudEvent();
    const before = sample.effects().length;
    const response = await post(
      event,
      "Notification",
      webhook,
      "application/cloudevents+json; charset=utf-8",
    );
    expect(response.status).toBe(202);
    const received = sample.effects().slice(before);
    expect(received).toEqual([
      {
        kind: "eventGrid",
        id: event.id,
        type: event.type,
        specversion: "1.0",
        subject: CLUSTER,
        data: event.data,
      },
    ]);
  });

  it("answers 500 when a handler throws, so Event Grid delivers again; the other events still run", async () => {
    const events = [gridEvent(), gridEvent("fail")];
    const before = sample.effects().length;
    const response = await post(events, "Notification");
    expect(response.status).toBe(500);
    expect(await response.text()).toContain("event handler failed");
    expect(sample.effects().slice(before)).toHaveLength(2);
    expect(
      sample
        .invocations("onResourceEvent")
        .slice(-2)
        .map((e) => e.result)
        .sort(),
    ).toEqual(["Failed", "Succeeded"]);
  });

  it("answers 404 for an unknown function, 401 without the system key, 400 without an event type", async () => {
    const unknown = webhook.replace("functionName=onResourceEvent", "functionName=nope");
    const notFound = await post([gridEvent()], "Notification", unknown);
    expect(notFound.status).toBe(404);
    expect(await notFound.text()).toBe("cannot find function: 'nope'");
    const withoutKey = webhook.replace(/&code=.*/, "");
    expect((await post([gridEvent()], "Notification", withoutKey)).status).toBe(401);
    expect(
      (await post([gridEvent()], "Notification", `${withoutKey}&code=${sample.host.keys.master}`)).status,
    ).toBe(202);
    expect((await post([gridEvent()], undefined)).status).toBe(400);
  });
});
