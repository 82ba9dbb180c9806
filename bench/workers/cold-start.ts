// Benchmark 3, one run: how long loading the app takes in a fresh process, from the deployment
// bundle (build/deploy/index.js, `npm run package`) or from the unbundled build (dist/functions/*.js
// and whatever they require from dist/ and node_modules/). Loaded through the local host's
// registration capture (local/functions-host/load-app.ts), which provides `@azure/functions-core`
// as the Functions worker does, so both loads do the real work: every function registers.
import fs from "node:fs";
import Module from "node:module";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { loadApp } from "../../local/functions-host/load-app";
import { ROOT } from "../lib/paths";
import { workerMain } from "../lib/worker";

export interface ColdStartArgs {
  target: "bundle" | "unbundled";
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
  return {
    target: args.target,
    loadMs: t1 - t0,
    sinceProcessStartMs: t1,
    functions: capture.functions.map((f) => f.metadata.name).sort(),
    files: loaded.length,
    bytes: loaded.reduce((n, f) => n + fs.statSync(f).size, 0),
  };
});
