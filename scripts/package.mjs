// `npm run package`: the deployment package for Azure Functions (Flex Consumption).
// One esbuild bundle of every functions/*.ts (catalog data inlined) loads far faster on a cold start
// than thousands of node_modules files. Output: build/deploy/ (what azd deploys) and a zip of it.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { zipSync } from "fflate";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(root, "build", "deploy");
const functionFiles = fs
  .readdirSync(path.join(root, "functions"))
  .filter((f) => f.endsWith(".ts"))
  .sort();

fs.rmSync(path.join(root, "build"), { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

const started = Date.now();
const result = await build({
  stdin: {
    // Every function file registers itself on import, as the worker's "main" glob would load them.
    contents: functionFiles.map((f) => `require("./functions/${f.replace(/\.ts$/, "")}");`).join("\n"),
    resolveDir: root,
    sourcefile: "functions-entry.ts",
    loader: "ts",
  },
  bundle: true,
  platform: "node",
  target: "node22",
  format: "cjs",
  outfile: path.join(out, "index.js"),
  sourcemap: true,
  // Provided by the Functions Node worker at run time (azure-notes §7).
  external: ["@azure/functions-core"],
  metafile: true,
  logLevel: "warning",
  legalComments: "linked",
  minify: true,
  keepNames: true,
});

const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
fs.writeFileSync(
  path.join(out, "package.json"),
  `${JSON.stringify({ name: pkg.name, version: pkg.version, private: true, main: "index.js", engines: { node: ">=22" } }, null, 2)}\n`,
);
fs.copyFileSync(path.join(root, "host.json"), path.join(out, "host.json"));

const files = {};
for (const name of fs.readdirSync(out)) files[name] = fs.readFileSync(path.join(out, name));
const zipFile = path.join(root, "build", "aks-egress-guard.zip");
fs.writeFileSync(zipFile, zipSync(files, { level: 9 }));

const size = (f) => `${(fs.statSync(f).size / 1024).toFixed(0)} KiB`;
console.log(`bundled ${functionFiles.length} function files in ${Date.now() - started} ms`);
console.log(`  ${path.relative(root, path.join(out, "index.js"))}  ${size(path.join(out, "index.js"))}`);
console.log(`  ${path.relative(root, zipFile)}  ${size(zipFile)}`);
console.log(`  inputs: ${Object.keys(result.metafile.inputs).length} files`);
