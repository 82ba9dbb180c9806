// Benchmark 3, one run: how long loading the app takes in a fresh process, from the deployment
// bundle (build/deploy/index.js, `npm run package`) or from the unbundled build (dist/functions/*.js
// and whatever they require from dist/ and node_modules/). Loaded through the local host's
// registration capture (local/functions-host/load-app.ts), which provides `@azure/functions-core`
// as the Functions worker does, so both loads do the real work: every function registers.
// Neither load includes the Azure SDK packages, the catalog versions or the page importer's markdown
// parser: the app requires them when an activity first needs them (azure/sdk.ts, catalog/load.ts,
// catalog/import/page.ts), from files beside build/deploy/index.js in the bundle. The bundle also
// keeps the packages durable-functions uses only when a function runs (its client's axios, validator
// and lodash, moment for timers, uuid, @opentelemetry/api) in build/deploy/durable-deps.js, which the
// unbundled app cannot defer: node_modules/durable-functions requires them when it loads.
// `firstUse` times what a pass's first activity then loads (not part of `npm run bench`'s table).
//
// The two variants must be built from the same code: the worker fails when a source file of the bundle
// changed between the unbundled build (dist/) and the bundle (`npm run bench` builds both in one run).
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
  /**
   * With `firstUse`: loading what a pass's first activity loads, as the app does: @azure/arm-network,
   * @azure/arm-containerservice and @azure/core-rest-pipeline, the default catalog version's file, and
   * in the bundle durable-deps.js (the durable client's and timers' packages, loaded by the unbundled app
   * at load).
   */
  firstUseMs?: number;
}

/**
 * The newest catalog version's file, the default one (catalog/load.ts). Not imported from the app: that
 * would load part of the app (and zod) into this process before the load that is timed.
 */
const defaultCatalogFile = () =>
  fs
    .readdirSync(path.join(ROOT, "catalog", "versions"))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .at(-1) ?? "";

/** Loads what a pass's first activity loads, through the loaded app's own path. */
function loadForFirstActivity(target: ColdStartArgs["target"]): void {
  if (target === "bundle") {
    const deploy = path.join(ROOT, "build", "deploy");
    const load = (file: string) => require(path.join(deploy, file)) as { load(name: string): unknown };
    const sdk = load("azure-sdk.js");
    for (const name of ["@azure/arm-network", "@azure/arm-containerservice", "@azure/core-rest-pipeline"])
      sdk.load(name);
    const durable = load("durable-deps.js");
    for (const name of ["axios", "validator", "lodash/cloneDeep", "moment", "uuid", "@opentelemetry/api"])
      durable.load(name);
    require(path.join(deploy, "catalog", "versions", defaultCatalogFile()));
  } else {
    const sdk = require(path.join(ROOT, "dist", "azure", "sdk.js")) as typeof import("../../azure/sdk");
    sdk.armNetwork();
    sdk.armContainerService();
    sdk.coreRestPipeline();
    require(path.join(ROOT, "dist", "catalog", "versions", defaultCatalogFile()));
  }
}

/**
 * The bundle's own source files (from its source map) that changed after the unbundled build compiled
 * them and before the bundle was made: then the two variants hold different code. A file changed after
 * both is in neither, which is fine.
 */
export function changedBetweenBuilds(): string[] {
  const bundle = path.join(ROOT, "build", "deploy", "index.js");
  const bundled = fs.statSync(bundle).mtimeMs;
  const map = JSON.parse(fs.readFileSync(`${bundle}.map`, "utf8")) as { sources: string[] };
  return map.sources
    .map((source) => path.resolve(path.dirname(bundle), source))
    .filter(
      (file) =>
        file.startsWith(ROOT + path.sep) &&
        file.endsWith(".ts") &&
        !file.includes("node_modules") &&
        fs.existsSync(file),
    )
    .filter((file) => {
      const changed = fs.statSync(file).mtimeMs;
      const compiled = path.join(ROOT, "dist", path.relative(ROOT, file).replace(/\.ts$/, ".js"));
      return !fs.existsSync(compiled) || (fs.statSync(compiled).mtimeMs < changed && changed <= bundled);
    })
    .map((file) => path.relative(ROOT, file));
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
    loadForFirstActivity(args.target);
    firstUseMs = performance.now() - t2;
  }
  // After the timed load, so that reading the source map does not disturb it.
  const changed = changedBetweenBuilds();
  if (changed.length > 0)
    throw new Error(
      `the bundle and dist/ hold different code: changed after \`npm run build\` and before \`npm run package\`: ${changed.join(", ")}`,
    );
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
