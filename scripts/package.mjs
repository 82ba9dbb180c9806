// `npm run package`: the deployment package for Azure Functions (Flex Consumption).
// One esbuild bundle of every functions/*.ts loads far faster on a cold start than thousands of
// node_modules files. Output: build/deploy/ (what azd deploys) and a zip of it.
//
// A cold start reads, compiles and runs index.js alone (benchmark 3, bench/README.md): it has to
// register the functions, nothing more. What the app needs only on some paths is in files beside it,
// which index.js requires on first use:
//
// - azure-sdk.js: the Azure SDK packages, which azure/sdk.ts requires when an activity first needs one;
// - markdown-it.js: the markdown parser, which catalog/import/page.ts requires when a page is first read
//   (the catalog watch, and a pass planning with an adopted page);
// - durable-deps.js: the packages durable-functions requires at its top but uses only when a function
//   runs (axios, validator and lodash for its client, moment for timers, uuid, @opentelemetry/api):
//   index.js holds a stand-in for each (scripts/stand-in.cjs) that requires the package at its first use;
// - catalog/versions/*.json: the catalog versions, each required when first asked for (catalog/load.ts),
//   as the unbundled app reads them.
//
// Lazy requires inside one bundle would still make every cold start read and parse their megabytes;
// esbuild's code splitting needs ESM output; shipping the packages in node_modules/ would bring back
// thousands of files. In each chunk every package stays wrapped until its first require, and the
// packages of a chunk share one copy of what they depend on (the SDK's @azure/core-*).
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

/** The packages a module requires by a literal `require("…")` call (relative paths excluded). */
function requiredPackages(file) {
  const packages = [...fs.readFileSync(file, "utf8").matchAll(/\brequire\("([^".][^"]*)"\)/g)].map(
    (m) => m[1],
  );
  if (packages.length === 0) throw new Error(`no require("…") of a package found in ${file}`);
  return [...new Set(packages)];
}

const SDK_MODULE = path.join(root, "azure", "sdk.ts");
const PAGE_MODULE = path.join(root, "catalog", "import", "page.ts");
// As esbuild names importers: real paths (node_modules may be a link).
const DURABLE_FUNCTIONS = fs.realpathSync(path.join(root, "node_modules", "durable-functions")) + path.sep;

/**
 * The files index.js requires on first use. A `require` of one of `packages` from a module that
 * `from` accepts becomes, in index.js, a require of the chunk, which returns the package (evaluated
 * on that first call). `standIn`: the require runs when its module loads, so index.js gets a stand-in
 * that requires the chunk only when the package is first used. Imports of the same packages from
 * other modules are untouched. Every package listed must be met so in the build, or it fails.
 */
const CHUNKS = [
  {
    file: "azure-sdk.js",
    from: (importer) => importer === SDK_MODULE,
    packages: requiredPackages(SDK_MODULE),
    resolveDir: root,
    standIn: false,
  },
  {
    file: "markdown-it.js",
    from: (importer) => importer === PAGE_MODULE,
    packages: requiredPackages(PAGE_MODULE),
    resolveDir: root,
    standIn: false,
  },
  {
    file: "durable-deps.js",
    from: (importer) => importer.startsWith(DURABLE_FUNCTIONS),
    packages: ["axios", "validator", "lodash/cloneDeep", "moment", "uuid", "@opentelemetry/api"],
    // The versions durable-functions gets (its own node_modules/ first, if it has one).
    resolveDir: DURABLE_FUNCTIONS,
    standIn: true,
  },
];
const STAND_IN = path.join(root, "scripts", "stand-in.cjs");
const met = new Set();

const onFirstUse = {
  name: "on-first-use",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind !== "require-call") return undefined;
      const chunk = CHUNKS.find((c) => c.packages.includes(args.path) && c.from(args.importer));
      if (chunk === undefined) return undefined;
      met.add(`${chunk.file} ${args.path}`);
      return { path: args.path, namespace: "on-first-use", pluginData: { chunk } };
    });
    b.onResolve({ filter: /.*/, namespace: "on-first-use" }, (args) =>
      args.path === STAND_IN ? { path: STAND_IN } : { path: args.path, external: true },
    );
    b.onLoad({ filter: /.*/, namespace: "on-first-use" }, (args) => {
      const { chunk } = args.pluginData;
      const load = `require(${JSON.stringify(`./${chunk.file}`)}).load(${JSON.stringify(args.path)})`;
      return {
        contents: chunk.standIn
          ? `module.exports = require(${JSON.stringify(STAND_IN)})(() => ${load});`
          : `module.exports = ${load};`,
        loader: "js",
      };
    });
  },
};

// catalog/load.ts's `require("./versions/<v>.json")` stays a require of that file, shipped beside
// index.js: a version is read and parsed (JSON.parse, the fastest way in) only when first asked for.
const CATALOG_LOADER = path.join(root, "catalog", "load.ts");
const catalogFiles = new Set();
const catalogVersions = {
  name: "catalog-versions",
  setup(b) {
    b.onResolve({ filter: /^\.\/versions\/[^/]+\.json$/ }, (args) => {
      if (args.kind !== "require-call" || args.importer !== CATALOG_LOADER) return undefined;
      const file = path.posix.join("catalog", "versions", path.posix.basename(args.path));
      catalogFiles.add(file);
      return { path: `./${file}`, external: true };
    });
  },
};

// zod: `import { z } from "zod"` binds the package's namespace as one value, which esbuild then keeps
// whole (about 460 KiB: every locale, JSON Schema conversion, ...), while `import * as z from "zod"`,
// the same members (`z.object`, ...), lets it keep only what the app calls (about 90 KiB). The app's
// files are bundled with the second form; a value import of zod in any other form stops the build.
const zodNamespace = {
  name: "zod-namespace",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.split(path.sep).includes("node_modules")) return undefined;
      const source = await fs.promises.readFile(args.path, "utf8");
      let rewritten = false;
      const contents = source.replace(/^import (?!type )(.+) from "zod";$/gm, (line, clause) => {
        if (clause.startsWith("* as ")) return line;
        if (clause !== "{ z }")
          throw new Error(
            `${args.path}: write \`import * as z from "zod"\` (or \`import { z } from "zod"\`)`,
          );
        rewritten = true;
        return `import * as z from "zod";`;
      });
      return rewritten ? { contents, loader: "ts" } : undefined;
    });
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
const chunkResults = [];
for (const chunk of CHUNKS) {
  chunkResults.push(
    await build({
      ...common,
      stdin: {
        contents: [
          "const packages = {",
          ...chunk.packages.map((p) => `  ${JSON.stringify(p)}: () => require(${JSON.stringify(p)}),`),
          "};",
          "exports.load = (name) => packages[name]();",
        ].join("\n"),
        resolveDir: chunk.resolveDir,
        sourcefile: `${chunk.file.replace(/\.js$/, "")}-entry.js`,
        loader: "js",
      },
      outfile: path.join(out, chunk.file),
    }),
  );
}
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
  plugins: [onFirstUse, catalogVersions, zodNamespace],
});
const unmet = CHUNKS.flatMap((c) => c.packages.map((p) => `${c.file} ${p}`)).filter((k) => !met.has(k));
if (unmet.length > 0)
  throw new Error(`no require of these packages was moved to their file: ${unmet.join(", ")}`);
if (catalogFiles.size === 0) throw new Error(`no catalog version required by ${CATALOG_LOADER}`);
for (const file of catalogFiles) {
  fs.mkdirSync(path.dirname(path.join(out, file)), { recursive: true });
  fs.copyFileSync(path.join(root, file), path.join(out, file));
}

const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
fs.writeFileSync(
  path.join(out, "package.json"),
  `${JSON.stringify({ name: pkg.name, version: pkg.version, private: true, main: "index.js", engines: { node: ">=22" } }, null, 2)}\n`,
);
fs.copyFileSync(path.join(root, "host.json"), path.join(out, "host.json"));

const files = {};
for (const name of fs
  .readdirSync(out, { recursive: true })
  .map((f) => f.split(path.sep).join("/"))
  .sort())
  if (fs.statSync(path.join(out, name)).isFile()) files[name] = fs.readFileSync(path.join(out, name));
const zipFile = path.join(root, "build", "aks-egress-guard.zip");
fs.writeFileSync(zipFile, zipSync(files, { level: 9 }));

const size = (f) => `${(fs.statSync(f).size / 1024).toFixed(0)} KiB`;
console.log(`bundled ${functionFiles.length} function files in ${Date.now() - started} ms`);
console.log(`  ${path.relative(root, path.join(out, "index.js"))}  ${size(path.join(out, "index.js"))}`);
for (const chunk of CHUNKS)
  console.log(
    `  ${path.relative(root, path.join(out, chunk.file))}  ${size(path.join(out, chunk.file))} (on first use: ${chunk.packages.join(", ")})`,
  );
const catalogBytes = [...catalogFiles].reduce((n, f) => n + fs.statSync(path.join(out, f)).size, 0);
console.log(
  `  ${path.relative(root, path.join(out, "catalog", "versions"))}/  ${catalogFiles.size} files, ${(catalogBytes / 1024).toFixed(0)} KiB (each on first use)`,
);
console.log(`  ${path.relative(root, zipFile)}  ${size(zipFile)}`);
console.log(
  `  inputs: ${Object.keys(result.metafile.inputs).length} files, ${CHUNKS.map((c, i) => `${Object.keys(chunkResults[i].metafile.inputs).length} for ${c.file}`).join(", ")}`,
);
