#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by `npm ci` via `prepare`).
// `npx aks-egress` in the checkout links this package into npx's cache and runs `prepare` again; that
// one skips the build when dist/ is there (package.json), so the first npx call takes seconds, not a build.
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const entry = path.join(__dirname, "..", "dist", "cli", "main.js");
if (!fs.existsSync(entry)) {
  process.stderr.write(
    "aks-egress: not built yet. Run `npm run build` (or `npm ci`) in the project folder first.\n",
  );
  process.exit(1);
}
require(entry)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
