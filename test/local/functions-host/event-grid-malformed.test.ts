// The Event Grid webhook with deliveries no Event Grid would send: nested 10,000 deep, over its size
// and batch limits, not JSON. None gets a 5xx (Event Grid retries those for a day): a body that is
// too big answers 413 and one that is not JSON 400 (neither is retried), each with one log line;
// any JSON event reaches the function as sent, without the host walking or re-serializing it.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_EVENT_GRID_BODY_BYTES, splitJsonArray } from "../../../local/functions-host/event-grid";
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

const DEPTH = 10_000;
const deepArray = `${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}`;
const deepObject = `${'{"a":'.repeat(DEPTH)}1${"}".repeat(DEPTH)}`;

function event(extra = "") {
  const id = randomUUID();
  return {
    id,
    text: `{"id":"${id}","subject":"/subscriptions/0000","eventType":"Microsoft.Resources.ResourceWriteSuccess"${extra}}`,
  };
}

function deliver(body: string, eventType = "Notification") {
  return fetch(webhook, {
    method: "POST",
    headers: { "content-type": "application/json", "aeg-event-type": eventType },
    body,
  });
}

const refusals = () =>
  sample.logs.filter((l) => l.kind === "host" && l.message === "Event Grid delivery refused");

describe("Event Grid webhook: malformed deliveries never get a 5xx", () => {
  it("hands events nested 10,000 deep to the function as sent (202), instead of failing with 500", async () => {
    const inArray = event(`,"extra":${deepArray}`);
    const inObject = event(`,"extra":${deepObject}`);
    const before = sample.effects().length;
    const batch = await deliver(`[${inArray.text}, ${inObject.text}]`);
    expect(batch.status).toBe(202);
    const single = event(`,"extra":${deepObject}`);
    expect((await deliver(single.text)).status).toBe(202);
    expect((await deliver(`[${deepArray}]`)).status).toBe(202);
    const ids = sample
      .effects()
      .slice(before)
      .map((e) => e.id);
    expect(ids).toEqual(expect.arrayContaining([inArray.id, inObject.id, single.id]));
    expect(ids).toHaveLength(4);
  });

  it("answers 413 (not retried) to a body over 1 MiB, with one log line, and invokes nothing", async () => {
    const before = sample.invocations("onResourceEvent").length;
    const logged = refusals().length;
    const big = event(`,"data":{"padding":"${"x".repeat(MAX_EVENT_GRID_BODY_BYTES)}"}`);
    const response = await deliver(`[${big.text}]`);
    expect(response.status).toBe(413);
    expect(await response.text()).toMatch(/over 1048576 bytes/);
    expect(sample.invocations("onResourceEvent")).toHaveLength(before);
    expect(refusals().slice(logged)).toEqual([expect.objectContaining({ status: 413 })]);
  });

  it("answers 413 to a batch of more than 5,000 events (Event Grid's largest), invoking none", async () => {
    const before = sample.invocations("onResourceEvent").length;
    const response = await deliver(`[${Array.from({ length: 5001 }, () => "1").join(",")}]`);
    expect(response.status).toBe(413);
    expect(await response.text()).toMatch(/at most 5000 events/);
    expect(sample.invocations("onResourceEvent")).toHaveLength(before);
  });

  it("answers 400 (not retried) to a body that is not a JSON object or array, with one log line", async () => {
    for (const body of ["{not json", '"a string"', "42", "null", deepArray.slice(1)]) {
      const logged = refusals().length;
      const response = await deliver(body);
      expect(response.status, body.slice(0, 20)).toBe(400);
      expect(refusals().slice(logged)).toHaveLength(1);
    }
  });

  it("answers 400, not 500, to a validation handshake whose code is not text", async () => {
    const response = await deliver(`[{"data":{"validationCode":${deepArray}}}]`, "SubscriptionValidation");
    expect(response.status).toBe(400);
    const cloud = await deliver(`{"data":{"validationCode":${deepObject}}}`, "SubscriptionValidation");
    expect(cloud.status).toBe(400);
  });
});

describe("splitJsonArray", () => {
  it("gives each element's text, strings with brackets, commas and escapes included", () => {
    const text = ' [ {"a":"x,]\\"}"}, [1,[2]] ,"s\\\\",null, 3 ] ';
    expect(splitJsonArray(text, 10)).toEqual(['{"a":"x,]\\"}"}', "[1,[2]]", '"s\\\\"', "null", "3"]);
    expect(splitJsonArray("[]", 10)).toEqual([]);
    expect(splitJsonArray("[1,2,3]", 2)).toBeUndefined();
    expect(splitJsonArray(`[${deepArray},${deepObject}]`, 10)).toEqual([deepArray, deepObject]);
  });
});

describe("Event Grid webhook: a chunked body over the limit", () => {
  it("is answered 413 once the limit is passed, and the client reads that answer", async () => {
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(webhook, {
        method: "POST",
        headers: { "content-type": "application/json", "aeg-event-type": "Notification" },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      // The host closes the connection soon after answering; a write still in flight may fail then.
      req.on("error", (error) => (req.writableEnded ? undefined : reject(error)));
      const chunk = `"${"x".repeat(64 * 1024)}",`;
      req.write("[");
      let sent = 0;
      const pump = () => {
        while (sent < 64 && req.write(chunk)) sent++;
        if (sent < 64)
          req.once("drain", () => {
            sent++;
            pump();
          });
        else req.end("1]");
      };
      pump();
    });
    expect(status).toBe(413);
  });
});
