// `npm run package`: the deployment bundle holds every function the app registers; what the app needs
// only on some paths (the Azure SDK, the markdown parser, durable-functions' client and timer packages,
// the catalog versions) it loads from files beside index.js on first use (scripts/package.mjs).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { catalogVersions, DEFAULT_CATALOG_VERSION } from "../../catalog";
import { startArmEmulator } from "../../local/arm-emulator";
import { type HostLogEntry, startFunctionsHost } from "../../local/functions-host";
import { ROOT } from "../helpers/paths";
import { POLICY_ID, SMALL_ESTATE } from "../local/arm-emulator-helpers";

const settings = {
  AKS_EGRESS_FIREWALL_POLICIES:
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Network/firewallPolicies/fw",
  AKS_EGRESS_APPROVAL_SIGNING_KEY: "k".repeat(40),
  AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
  AKS_EGRESS_CATALOG_WATCH_SCHEDULE: "0 30 5 * * *",
  AKS_EGRESS_TASK_HUB: "bundle",
};

async function registrations(entry: string): Promise<string[]> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-egress-bundle-"));
  const host = await startFunctionsHost({
    entryFiles: [entry],
    port: 0,
    stateDir,
    runTimers: false,
    settings,
    logger: () => {},
  });
  try {
    return host.functions.map((f) => `${f.name}:${f.triggerType}`).sort();
  } finally {
    await host.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

describe("npm run package", () => {
  it("bundles the app into build/deploy with every function registration", async () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, "scripts", "package.mjs")], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(0);
    const deploy = path.join(ROOT, "build", "deploy");
    expect(fs.readdirSync(deploy).sort()).toEqual([
      "azure-sdk.js",
      "azure-sdk.js.LEGAL.txt",
      "azure-sdk.js.map",
      "catalog",
      "durable-deps.js",
      "durable-deps.js.LEGAL.txt",
      "durable-deps.js.map",
      "host.json",
      "index.js",
      "index.js.LEGAL.txt",
      "index.js.map",
      "markdown-it.js",
      "markdown-it.js.map",
      "package.json",
    ]);
    // The catalog versions as they are in the repository, one file each.
    const versions = path.join(deploy, "catalog", "versions");
    expect(fs.readdirSync(versions).sort()).toEqual(catalogVersions().map((v) => `${v}.json`));
    for (const file of fs.readdirSync(versions))
      expect(fs.readFileSync(path.join(versions, file), "utf8"), file).toBe(
        fs.readFileSync(path.join(ROOT, "catalog", "versions", file), "utf8"),
      );
    expect(JSON.parse(fs.readFileSync(path.join(deploy, "package.json"), "utf8"))).toMatchObject({
      main: "index.js",
    });
    expect(fs.statSync(path.join(ROOT, "build", "aks-egress-guard.zip")).size).toBeGreaterThan(100_000);

    const fromBundle = await registrations(path.join(deploy, "index.js"));
    const fromSource = await registrations(path.join(ROOT, "dist", "functions", "*.js"));
    expect(fromBundle).toEqual(fromSource);
    expect(fromBundle).toEqual([
      "applyPlan:activityTrigger",
      "approvals:httpTrigger",
      "armEvents:eventGridTrigger",
      "catalogWatch:timerTrigger",
      "estate:httpTrigger",
      "gatherAndPlan:activityTrigger",
      "policyReconciler:orchestrationTrigger",
      "reconcile:httpTrigger",
      "recordAdoption:activityTrigger",
      "requestApproval:activityTrigger",
      "status:httpTrigger",
      "sweep:timerTrigger",
      "verifyDecision:activityTrigger",
    ]);
  }, 60_000);

  // The tests below use the package the test above built.
  const deploy = path.join(ROOT, "build", "deploy");
  const sources = (file: string) =>
    (JSON.parse(fs.readFileSync(path.join(deploy, `${file}.map`), "utf8")) as { sources: string[] }).sources;
  const SDK =
    /node_modules\/@azure\/(arm-network|arm-containerservice|identity|eventgrid|msal-node|storage-blob)\//;
  const MARKDOWN = /node_modules\/(markdown-it|entities|linkify-it|mdurl)\//;
  const DURABLE_DEPS = /node_modules\/(axios|validator|moment|lodash|uuid|@opentelemetry\/api|mime-db)\//;

  it("keeps what the app uses on first use out of index.js, and loading the app reads index.js alone", () => {
    expect(sources("index.js").filter((s) => SDK.test(s))).toEqual([]);
    expect(sources("azure-sdk.js").filter((s) => SDK.test(s)).length).toBeGreaterThan(100);
    expect(sources("index.js").filter((s) => MARKDOWN.test(s))).toEqual([]);
    expect(sources("markdown-it.js").filter((s) => MARKDOWN.test(s)).length).toBeGreaterThan(10);
    expect(sources("index.js").filter((s) => DURABLE_DEPS.test(s))).toEqual([]);
    expect(sources("durable-deps.js").filter((s) => DURABLE_DEPS.test(s)).length).toBeGreaterThan(100);
    expect(sources("index.js").filter((s) => s.includes("/versions/") && s.endsWith(".json"))).toEqual([]);
    // zod as the app calls it: no other locale than English, no JSON Schema conversion.
    expect(
      sources("index.js").filter((s) =>
        /node_modules\/zod\/.*(locales\/(?!en\.js|index\.js)|from-json-schema)/.test(s),
      ),
    ).toEqual([]);

    const script = `
      const { loadApp } = require(${JSON.stringify(path.join(ROOT, "dist", "local", "functions-host", "load-app.js"))});
      const capture = loadApp([${JSON.stringify(path.join(deploy, "index.js"))}]);
      console.log(JSON.stringify({ functions: capture.functions.length, files: Object.keys(require.cache) }));`;
    const run = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const loaded = JSON.parse(run.stdout) as { functions: number; files: string[] };
    expect(loaded.functions).toBeGreaterThan(0);
    expect(loaded.files.filter((f) => f.startsWith(deploy))).toEqual([path.join(deploy, "index.js")]);
    expect(loaded.files.filter((f) => f.includes("node_modules"))).toEqual([]);
  });

  it.each([
    [
      "azure-sdk.js",
      {
        "@azure/arm-containerservice": "ContainerServiceClient",
        "@azure/arm-network": "NetworkManagementClient",
        "@azure/core-auth": "AzureKeyCredential",
        "@azure/core-rest-pipeline": "retryPolicy",
        "@azure/eventgrid": "EventGridPublisherClient",
        "@azure/identity": "DefaultAzureCredential",
        "@azure/storage-blob": "BlobServiceClient",
      },
    ],
    ["markdown-it.js", { "markdown-it": "prototype" }],
    [
      "durable-deps.js",
      {
        axios: "default",
        validator: "isURL",
        "lodash/cloneDeep": "name",
        moment: "duration",
        uuid: "v5",
        "@opentelemetry/api": "trace",
      },
    ],
  ])("serves each package it holds from %s", (file, expected) => {
    const chunk = require(path.join(deploy, file)) as { load(name: string): Record<string, unknown> };
    for (const [name, member] of Object.entries(expected))
      expect(chunk.load(name)[member], name).toBeDefined();
  });

  it("runs a pass from the bundle: reads clusters and subnets, writes the group, narrows an event", async () => {
    const emulator = await startArmEmulator({ seedFile: SMALL_ESTATE, lroDelayMs: 20 });
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-egress-bundle-"));
    const logs: HostLogEntry[] = [];
    const host = await startFunctionsHost({
      entryFiles: [path.join(deploy, "index.js")],
      port: 0,
      stateDir,
      runTimers: false,
      keys: { master: "test-master-key", function: "test-function-key" },
      logger: (entry) => logs.push(entry),
      settings: {
        ...settings,
        AKS_EGRESS_FIREWALL_POLICIES: POLICY_ID,
        AKS_EGRESS_ARM_ENDPOINT: emulator.endpoint,
        AKS_EGRESS_ARM_CA_FILE: emulator.caFile,
        AKS_EGRESS_DEBOUNCE_SECONDS: "1",
        AKS_EGRESS_MODE: "auto",
      },
    });
    try {
      const started = await fetch(`${host.url}/api/reconcile`, {
        method: "POST",
        headers: { "x-functions-key": "test-function-key" },
        body: "{}",
      });
      expect(started.status).toBe(202);
      const written = () => emulator.requests().some((r) => r.method === "PUT" && r.status < 300);
      const deadline = Date.now() + 20_000;
      while (!written() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(written()).toBe(true);

      const event = fs.readFileSync(
        path.join(ROOT, "test", "fixtures", "events", "cluster-write.eventgrid.json"),
        "utf8",
      );
      const delivered = await fetch(
        `${host.url}/runtime/webhooks/eventgrid?functionName=armEvents&code=${host.keys.system.eventgrid_extension}`,
        {
          method: "POST",
          headers: { "aeg-event-type": "Notification", "Content-Type": "application/json" },
          body: `[${event}]`,
        },
      );
      expect(delivered.status).toBeLessThan(300);
      await host.idle();
      const failed = logs.filter((l) => l.kind === "invocation" && l.result === "Failed");
      expect(failed.map((l) => JSON.stringify(l))).toEqual([]);
      // The pass planned with the default catalog version, read from its own file beside index.js.
      expect(
        require.cache[path.join(deploy, "catalog", "versions", `${DEFAULT_CATALOG_VERSION}.json`)],
      ).toBeDefined();
    } finally {
      await host.close();
      await emulator.close();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("a stand-in for a package used on first use (scripts/stand-in.cjs)", () => {
  const onFirstUse = require(path.join(ROOT, "scripts", "stand-in.cjs")) as <T>(load: () => T) => T;
  const counted = <T>(module: T) => {
    const loads = { count: 0 };
    const standIn = onFirstUse(() => {
      loads.count++;
      return module;
    });
    return { loads, standIn };
  };

  it("requires the package at its first use only, once", () => {
    const { loads, standIn } = counted({ answer: 42, nested: { a: 1 } });
    expect(loads.count).toBe(0);
    expect(standIn.answer).toBe(42);
    expect(standIn.nested.a).toBe(1);
    expect("answer" in standIn).toBe(true);
    expect(loads.count).toBe(1);
  });

  it("calls and constructs a package that exports a function, with its properties", () => {
    class Moment {
      constructor(readonly at = 0) {}
      static duration(ms: number) {
        return { ms };
      }
    }
    const callable = Object.assign((n: number) => n * 2, { half: (n: number) => n / 2 });
    const { standIn: fn } = counted(callable);
    expect(fn(21)).toBe(42);
    expect(fn.half(84)).toBe(42);
    const { standIn: Ctor } = counted(Moment);
    expect(new Ctor(7)).toBeInstanceOf(Moment);
    expect(new Ctor(7).at).toBe(7);
    expect(Ctor.duration(5)).toEqual({ ms: 5 });
  });

  it("lists and describes the package's keys (proxy invariants hold)", () => {
    const module = {};
    Object.defineProperty(module, "__esModule", { value: true });
    Object.assign(module, { a: 1, b: () => 2 });
    const { standIn } = counted(module as { a: number; b: () => number });
    expect(Object.keys(standIn)).toEqual(["a", "b"]);
    expect(Object.getOwnPropertyDescriptor(standIn, "__esModule")?.value).toBe(true);
    expect({ ...standIn }).toEqual({ a: 1, b: module.b });
    expect(Object.getPrototypeOf(standIn)).toBe(Object.prototype);
  });
});
