// Loading the app's entry files with @azure/functions-core provided in-process captures every
// registration with the metadata the worker would receive.
import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { isGuardError } from "../../../errors";
import { resolveEntryFiles, startFunctionsHost } from "../../../local/functions-host";
import { newStateDir, SAMPLE_APP, type SampleHost, startSampleHost } from "./sample-host";

describe("registration capture", () => {
  let sample: SampleHost;
  beforeAll(async () => {
    sample = await startSampleHost();
  });
  afterAll(async () => {
    await sample.host.close();
  });

  it("captures every function of the app with its trigger", () => {
    const triggers = Object.fromEntries(sample.host.functions.map((f) => [f.name, f.triggerType]));
    expect(triggers).toEqual({
      hello: "httpTrigger",
      saveItem: "httpTrigger",
      adminOnly: "httpTrigger",
      broken: "httpTrigger",
      onResourceEvent: "eventGridTrigger",
      sweep: "timerTrigger",
      recordStep: "activityTrigger",
      flaky: "activityTrigger",
      approvalOrchestrator: "orchestrationTrigger",
      retryOrchestrator: "orchestrationTrigger",
      eternalOrchestrator: "orchestrationTrigger",
      startApproval: "httpTrigger",
      approve: "httpTrigger",
    });
  });

  it("keeps the binding metadata @azure/functions and durable-functions produce", () => {
    const byName = new Map(sample.host.functions.map((f) => [f.name, f]));
    const hello = byName.get("hello");
    expect(hello).toMatchObject({ route: "hello/{name}", methods: ["GET"], authLevel: "anonymous" });
    expect(Object.values(hello?.bindings ?? {})).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: "httpTrigger", direction: "in", route: "hello/{name}" }),
        expect.objectContaining({ type: "http", direction: "out" }),
      ]),
    );
    // df.app.client.http adds the durableClient input binding.
    expect(Object.values(byName.get("startApproval")?.bindings ?? {})).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: "durableClient", direction: "in" })]),
    );
    expect(byName.get("saveItem")).toMatchObject({ methods: ["POST", "PUT"], authLevel: "function" });
    // The timer's %SWEEP_SCHEDULE% is resolved from the app settings.
    expect(byName.get("sweep")?.schedule).toBe("0 0 */6 * * *");
  });

  it("registers again when a second host loads the same app in the same process", async () => {
    const second = await startSampleHost();
    try {
      expect(second.host.functions.map((f) => f.name).sort()).toEqual(
        sample.host.functions.map((f) => f.name).sort(),
      );
      const response = await fetch(`${second.host.url}/api/hello/again`);
      expect(response.status).toBe(200);
    } finally {
      await second.host.close();
    }
  });
});

describe("entry files", () => {
  it("expands a wildcard in the file name, as package.json main patterns do", () => {
    expect(
      resolveEntryFiles(["h*.ts", "event-?rid.ts", "index.ts"], SAMPLE_APP).map((f) => path.basename(f)),
    ).toEqual(["hooks.ts", "http.ts", "event-grid.ts", "index.ts"]);
    expect(() => resolveEntryFiles(["nothing-*.js"], SAMPLE_APP)).toThrow(/matches no file/);
    expect(() => resolveEntryFiles(["*/index.ts"], SAMPLE_APP)).toThrow(/only the file name/);
  });
});

describe("unsupported registrations", () => {
  it("refuses durable entities at start, naming the function", async () => {
    const stateDir = newStateDir();
    const start = startFunctionsHost({
      entryFiles: [path.join(SAMPLE_APP, "entity.ts")],
      port: 0,
      stateDir,
      logger: () => undefined,
    });
    onTestFinished(() => rmSync(stateDir, { recursive: true, force: true }));
    await expect(start).rejects.toSatisfy(
      (error: unknown) =>
        isGuardError(error, "EMULATOR_UNSUPPORTED") &&
        /Durable entities \(function "counter"\)/.test(error.message),
    );
  });

  it("fails to start when an appStart hook throws, leaving settings and port behind", async () => {
    expect(process.env.SAMPLE_APP_REFUSE_START).toBeUndefined();
    await expect(startSampleHost({ settings: { SAMPLE_APP_REFUSE_START: "yes" } })).rejects.toThrow(
      "sample app refuses to start",
    );
    expect(process.env.SAMPLE_APP_REFUSE_START).toBeUndefined();
    expect(process.env.WEBSITE_HOSTNAME).toBeUndefined();
    const next = await startSampleHost();
    expect(process.env.WEBSITE_HOSTNAME).toBe(new URL(next.host.url).host);
    await next.host.close();
    expect(process.env.WEBSITE_HOSTNAME).toBeUndefined();
  });

  it("refuses a timer schedule it cannot read", async () => {
    const start = startSampleHost({ settings: { SWEEP_SCHEDULE: "0 */5 * * *" } });
    await expect(start).rejects.toSatisfy(
      (error: unknown) => isGuardError(error, "CONFIG_INVALID") && /it has 5 fields/.test(error.message),
    );
  });
});
