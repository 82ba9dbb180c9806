// The loopback listener the DurableClient talks to (`rpcBaseUrl`) needs the Durable system key (or
// the master key), like the public webhook: without it nothing is started, raised or terminated.
// The app's own durable client gets the key with the binding data (in `rpcBaseUrl`) and keeps working.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventType } from "../../../local/durable/history";
import { type SampleHost, startSampleHost } from "./sample-host";

let sample: SampleHost;
let rpcOrigin: string;
const fnKey = { "x-functions-key": "test-function-key" };

beforeAll(async () => {
  sample = await startSampleHost();
  rpcOrigin = new URL(sample.host.durable.clientData().rpcBaseUrl).origin;
});
afterAll(async () => {
  await sample.host.close();
});

/** Events raised to the instance: in its history, or still in its inbox. */
const eventsRaised = (instanceId: string) => {
  const record = sample.host.durable.engine.instance(instanceId);
  return [
    ...(record?.history ?? []).filter((e) => e.EventType === EventType.EventRaised),
    ...(record?.inbox ?? []).filter((m) => m.type === "EventRaised"),
  ];
};

describe("the Durable RPC listener", () => {
  it("refuses a raise-event, start, terminate or query without the system key, and raises nothing", async () => {
    // Started by the app's own durable client (binding data from the host).
    const started = await fetch(`${sample.host.url}/api/approvals/rpc-1`, {
      method: "POST",
      headers: { ...fnKey, "content-type": "application/json" },
      body: JSON.stringify({ timeoutMs: 60_000 }),
    });
    expect(started.status).toBe(202);
    await sample.host.idle();
    expect((await sample.host.durable.client().getStatus("rpc-1")).customStatus).toEqual({
      stage: "awaiting-approval",
    });

    const raise = "instances/rpc-1/raiseEvent/approval";
    const body = JSON.stringify({ approver: "mallory" });
    const attempts: [string, RequestInit][] = [
      [`${rpcOrigin}/durabletask/${raise}`, { method: "POST", body }],
      [`${rpcOrigin}/durabletask/${raise}?code=wrong`, { method: "POST", body }],
      [
        `${rpcOrigin}/durabletask/${raise}`,
        { method: "POST", body, headers: { "x-functions-key": "wrong" } },
      ],
      [`${rpcOrigin}/durabletask/${raise}`, { method: "POST", body, headers: fnKey }],
      [`${rpcOrigin}/wrong/durabletask/${raise}`, { method: "POST", body }],
      [`${rpcOrigin}/test-function-key/durabletask/${raise}`, { method: "POST", body }],
      [`${rpcOrigin}/durabletask/instances/rpc-1/terminate?reason=x`, { method: "POST" }],
      [
        `${rpcOrigin}/durabletask/orchestrators/approvalOrchestrator/rpc-evil`,
        { method: "POST", body: "{}" },
      ],
      [`${rpcOrigin}/durabletask/instances/rpc-1`, { method: "GET" }],
      [`${rpcOrigin}/durabletask/instances/`, { method: "GET" }],
    ];
    for (const [url, init] of attempts) {
      const response = await fetch(url, init);
      expect(response.status, `${init.method} ${url}`).toBe(401);
    }
    await sample.host.idle();
    expect(eventsRaised("rpc-1")).toEqual([]);
    expect(sample.host.durable.engine.instance("rpc-evil")).toBeUndefined();
    const waiting = await sample.host.durable.client().getStatus("rpc-1");
    expect(waiting.runtimeStatus).toBe("Running");
    expect(waiting.customStatus).toEqual({ stage: "awaiting-approval" });
  });

  it("accepts the system key (or the master key) in the header, the code parameter or rpcBaseUrl's path", async () => {
    const system = sample.host.keys.system.durabletask_extension;
    for (const url of [
      `${rpcOrigin}/durabletask/instances/rpc-1?code=${encodeURIComponent(system)}`,
      `${rpcOrigin}/${encodeURIComponent(system)}/durabletask/instances/rpc-1`,
      `${rpcOrigin}/durabletask/instances/rpc-1?code=${sample.host.keys.master}`,
    ]) {
      expect((await fetch(url)).status, url).toBe(202);
    }
    const withHeader = await fetch(`${rpcOrigin}/durabletask/instances/rpc-1`, {
      headers: { "x-functions-key": system },
    });
    expect(withHeader.status).toBe(202);
  });

  it("gives the key to the app's durable client in the binding data, which raises the event", async () => {
    const data = sample.host.durable.clientData();
    expect(data.rpcBaseUrl).toBe(
      `${rpcOrigin}/${encodeURIComponent(sample.host.keys.system.durabletask_extension)}/durabletask/`,
    );
    // The app's own client (an HTTP trigger with the durableClient input) raises through it.
    const approved = await fetch(`${sample.host.url}/api/approvals/rpc-1/approve`, {
      method: "POST",
      headers: { ...fnKey, "content-type": "application/json" },
      body: JSON.stringify({ approver: "bob" }),
    });
    expect(approved.status).toBe(202);
    await sample.host.idle();
    const done = await sample.host.durable.client().getStatus("rpc-1");
    expect(done.runtimeStatus).toBe("Completed");
    expect(done.output).toMatchObject({ decision: { approver: "bob" } });
  });

  it("does not log the key: the start line shows rpcBaseUrl without it", () => {
    const started = sample.logs.find((l) => l.kind === "host" && l.message === "Functions host started");
    const line = JSON.stringify(started);
    expect(line).toContain("durabletask");
    expect(line).not.toContain(sample.host.keys.system.durabletask_extension);
    expect(line).not.toContain(sample.host.keys.system.eventgrid_extension);
    expect(line).not.toContain(sample.host.keys.master);
  });
});
