// `npm run package`: the deployment package for Azure Functions (Flex Consumption).
// One esbuild bundle of every functions/*.ts (catalog data inlined) loads far faster on a cold start
// than thousands of node_modules files. Output: build/deploy/ (what azd deploys) and a zip of it.
//
// The Azure SDK packages the app requires on first use (azure/sdk.ts) go to a second file,
// azure-sdk.js, which index.js requires only then: a cold start reads, compiles and runs index.js
// alone (benchmark 3, bench/README.md). Lazy requires inside one bundle would still make every cold
// start read and parse the SDK's megabytes; esbuild's code splitting needs ESM output; shipping the
// packages in node_modules/ would bring back thousands of files. In azure-sdk.js every package stays
// wrapped until its first require, and the packages share one copy of @azure/core-*.
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

// The packages azure/sdk.ts requires, read from its literal `require("…")` calls.
const SDK_MODULE = path.join(root, "azure", "sdk.ts");
const sdkPackages = [...fs.readFileSync(SDK_MODULE, "utf8").matchAll(/\brequire\("([^"]+)"\)/g)].map(
  (m) => m[1],
);
if (sdkPackages.length === 0) throw new Error(`no require("…") found in ${SDK_MODULE}`);
const SDK_CHUNK = "azure-sdk.js";

// In index.js, azure/sdk.ts's require of a package becomes a require of azure-sdk.js, which returns
// the package, evaluated on that first call. Imports of the same packages elsewhere are untouched.
const lazySdk = {
  name: "lazy-sdk",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) =>
      args.kind === "require-call" && args.importer === SDK_MODULE && sdkPackages.includes(args.path)
        ? { path: args.path, namespace: "lazy-sdk" }
        : undefined,
    );
    b.onResolve({ filter: /.*/, namespace: "lazy-sdk" }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: "lazy-sdk" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`./${SDK_CHUNK}`)}).load(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

const common = {
  bundle: true,
  platform: "node",
  target: "node22",
  format: "cjs",
  sourcemap: true,
  metafile: true,
  logLevel: "warning",
  legalComments: "linked",
  minify: true,
  keepNames: true,
};

const started = Date.now();
const sdkResult = await build({
  ...common,
  stdin: {
    contents: [
      "const packages = {",
      ...sdkPackages.map((p) => `  ${JSON.stringify(p)}: () => require(${JSON.stringify(p)}),`),
      "};",
      "exports.load = (name) => packages[name]();",
    ].join("\n"),
    resolveDir: root,
    sourcefile: "azure-sdk-entry.js",
    loader: "js",
  },
  outfile: path.join(out, SDK_CHUNK),
});
const result = await build({
  ...common,
  stdin: {
    // Every function file registers itself on import, as the worker's "main" glob would load them.
    contents: functionFiles.map((f) => `require("./functions/${f.replace(/\.ts$/, "")}");`).join("\n"),
    resolveDir: root,
    sourcefile: "functions-entry.ts",
    loader: "ts",
  },
  outfile: path.join(out, "index.js"),
  // Provided by the Functions Node worker at run time (azure-notes §7).
  external: ["@azure/functions-core"],
  plugins: [lazySdk],
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
console.log(
  `  ${path.relative(root, path.join(out, SDK_CHUNK))}  ${size(path.join(out, SDK_CHUNK))} (on first use: ${sdkPackages.join(", ")})`,
);
console.log(`  ${path.relative(root, zipFile)}  ${size(zipFile)}`);
console.log(
  `  inputs: ${Object.keys(result.metafile.inputs).length} files, ${Object.keys(sdkResult.metafile.inputs).length} for ${SDK_CHUNK}`,
);
