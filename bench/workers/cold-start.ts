// Benchmark 3, one run: how long loading the app takes in a fresh process, from the deployment
// bundle (build/deploy/index.js, `npm run package`) or from the unbundled build (dist/functions/*.js
// and whatever they require from dist/ and node_modules/). Loaded through the local host's
// registration capture (local/functions-host/load-app.ts), which provides `@azure/functions-core`
// as the Functions worker does, so both loads do the real work: every function registers.
// Neither load includes the Azure SDK packages: the app requires them when an activity first needs
// them (azure/sdk.ts), from build/deploy/azure-sdk.js in the bundle. `firstUse` times that deferred
// cost too (not part of `npm run bench`'s table).
import fs from "node:fs";
import Module from "node:module";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { loadApp } from "../../local/functions-host/load-app";
import { ROOT } from "../lib/paths";
import { workerMain } from "../lib/worker";

export interface ColdStartArgs {
  target: "bundle" | "unbundled";
  /** After the load, also time loading the SDK packages a pass's first activity needs. */
  firstUse?: boolean;
}

export interface ColdStartResult {
  target: ColdStartArgs["target"];
  /** The require of the app's entry files, registrations included. */
  loadMs: number;
  /** From this process's start until the app is loaded (Node's own start included). */
  sinceProcessStartMs: number;
  functions: string[];
  /** Files the load read, and their bytes. */
  files: number;
  bytes: number;
  /** With `firstUse`: loading @azure/arm-network, @azure/arm-containerservice and @azure/core-rest-pipeline as the app does. */
  firstUseMs?: number;
}

/** Loads what a pass's first activity loads (its SDK clients), through the loaded app's own path. */
function loadSdkForFirstActivity(target: ColdStartArgs["target"]): void {
  if (target === "bundle") {
    const chunk = require(path.join(ROOT, "build", "deploy", "azure-sdk.js")) as {
      load(name: string): unknown;
    };
    for (const name of ["@azure/arm-network", "@azure/arm-containerservice", "@azure/core-rest-pipeline"])
      chunk.load(name);
  } else {
    const sdk = require(path.join(ROOT, "dist", "azure", "sdk.js")) as typeof import("../../azure/sdk");
    sdk.armNetwork();
    sdk.armContainerService();
    sdk.coreRestPipeline();
  }
}

export const ENTRIES: Record<ColdStartArgs["target"], string> = {
  bundle: path.join(ROOT, "build", "deploy", "index.js"),
  unbundled: path.join(ROOT, "dist", "functions", "*.js"),
};

workerMain<ColdStartArgs, ColdStartResult>(async (args) => {
  const cache = (Module as unknown as { _cache: Record<string, unknown> })._cache;
  const before = new Set(Object.keys(cache));
  const t0 = performance.now();
  const capture = loadApp([ENTRIES[args.target]]);
  const t1 = performance.now();
  const loaded = Object.keys(cache).filter((f) => !before.has(f) && path.isAbsolute(f) && fs.existsSync(f));
  let firstUseMs: number | undefined;
  if (args.firstUse) {
    const t2 = performance.now();
    loadSdkForFirstActivity(args.target);
    firstUseMs = performance.now() - t2;
  }
  return {
    target: args.target,
    loadMs: t1 - t0,
    sinceProcessStartMs: t1,
    functions: capture.functions.map((f) => f.metadata.name).sort(),
    files: loaded.length,
    bytes: loaded.reduce((n, f) => n + fs.statSync(f).size, 0),
    ...(firstUseMs === undefined ? {} : { firstUseMs }),
  };
});
