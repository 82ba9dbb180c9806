// HTTP triggers served at /api/<route>: routing with parameters and constraints, methods, auth
// levels, what reaches the handler, and one structured log line per invocation.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SampleHost, startSampleHost } from "./sample-host";

let sample: SampleHost;
let url: string;
beforeAll(async () => {
  sample = await startSampleHost();
  url = sample.host.url;
});
afterAll(async () => {
  await sample.host.close();
});

describe("routing", () => {
  it("passes route parameters, query, headers and method to the handler", async () => {
    const response = await fetch(`${url}/api/hello/W%C3%B6rld?lang=fr&lang=de&x=1`, {
      headers: { "x-sample": "yes" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      name: "Wörld",
      query: { lang: "fr,de", x: "1" },
      method: "GET",
      header: "yes",
    });
    expect(body.url).toBe(`${url}/api/hello/W%C3%B6rld?lang=fr&lang=de&x=1`);
  });

  it("matches literal segments case-insensitively", async () => {
    expect((await fetch(`${url}/API/Hello/x`)).status).toBe(200);
    expect((await fetch(`${url}/api/HELLO/x`)).status).toBe(200);
  });

  it("answers 404 for an unknown route, a method not allowed, or a failed constraint", async () => {
    expect((await fetch(`${url}/api/nothing-here`)).status).toBe(404);
    expect((await fetch(`${url}/api/hello/x`, { method: "POST" })).status).toBe(404);
    const key = { "x-functions-key": sample.host.keys.function };
    expect((await fetch(`${url}/api/items/abc`, { method: "POST", headers: key, body: "x" })).status).toBe(
      404,
    );
    expect((await fetch(`${url}/somewhere`)).status).toBe(404);
  });

  it("preserves a JSON body and a text body, and the handler's status and headers", async () => {
    const key = { "x-functions-key": sample.host.keys.function };
    const json = await fetch(`${url}/api/items/42`, {
      method: "PUT",
      headers: { ...key, "content-type": "application/json" },
      body: JSON.stringify({ a: [1, 2], b: "ü" }),
    });
    expect(json.status).toBe(201);
    expect(json.headers.get("x-item-id")).toBe("42");
    expect(await json.json()).toEqual({
      id: 42,
      method: "PUT",
      body: { a: [1, 2], b: "ü" },
      contentType: "application/json",
    });
    const text = await fetch(`${url}/api/items/7`, {
      method: "POST",
      headers: { ...key, "content-type": "text/plain" },
      body: "plain words",
    });
    expect(await text.json()).toMatchObject({ id: 7, method: "POST", body: "plain words" });
  });

  it("answers 500 when the handler throws", async () => {
    const response = await fetch(`${url}/api/broken`);
    expect(response.status).toBe(500);
  });
});

describe("auth levels", () => {
  const target = () => `${url}/api/items/1`;
  const post = (init: RequestInit = {}, suffix = "") =>
    fetch(`${target()}${suffix}`, { method: "POST", body: "x", ...init });

  it("answers 401 for a function-level route without a key or with a wrong key", async () => {
    expect((await post()).status).toBe(401);
    expect((await post({ headers: { "x-functions-key": "wrong" } })).status).toBe(401);
    expect((await post({}, "?code=wrong")).status).toBe(401);
  });

  it("accepts the function key or the master key, in the header or the code query", async () => {
    expect((await post({ headers: { "x-functions-key": sample.host.keys.function } })).status).toBe(201);
    expect((await post({}, `?code=${sample.host.keys.function}`)).status).toBe(201);
    expect((await post({ headers: { "x-functions-key": sample.host.keys.master } })).status).toBe(201);
  });

  it("lets only the master key through an admin-level route", async () => {
    const adminOnly = `${url}/api/admin-only`;
    expect((await fetch(adminOnly)).status).toBe(401);
    expect(
      (await fetch(adminOnly, { headers: { "x-functions-key": sample.host.keys.function } })).status,
    ).toBe(401);
    const ok = await fetch(adminOnly, { headers: { "x-functions-key": sample.host.keys.master } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("for admins");
  });

  it("leaves anonymous routes open", async () => {
    expect((await fetch(`${url}/api/hello/anyone`)).status).toBe(200);
  });
});

describe("logging", () => {
  it("logs one JSON line per invocation and the handler's context.log output", async () => {
    const response = await fetch(`${url}/api/hello/logger`);
    expect(response.status).toBe(200);
    const mine = sample.logs.filter(
      (e) => e.kind === "log" && e.functionName === "hello" && e.message === "saying hello to logger",
    );
    expect(mine).toHaveLength(1);
    const invocationId = mine[0]?.kind === "log" ? mine[0].invocationId : undefined;
    const invocation = sample.invocations("hello").find((e) => e.invocationId === invocationId);
    expect(invocation).toMatchObject({ kind: "invocation", trigger: "httpTrigger", result: "Succeeded" });
    expect(invocation?.durationMs).toBeGreaterThanOrEqual(0);
    expect(() => JSON.parse(JSON.stringify(invocation))).not.toThrow();

    await fetch(`${url}/api/broken`);
    const failed = sample.invocations("broken").at(-1);
    expect(failed).toMatchObject({ result: "Failed", error: "handler broke" });
    expect(sample.logs).toContainEqual(
      expect.objectContaining({
        kind: "log",
        level: "warning",
        functionName: "broken",
        message: "about to fail",
      }),
    );
  });
});
