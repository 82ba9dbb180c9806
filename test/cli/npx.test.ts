// The README's `npx aks-egress …` in a checkout that `npm ci` built: npx installs the project's own
// package into its cache, which runs the package's `prepare` (the full build, ~30 s) unless `prepare`
// sees it is npx with dist/ already built.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/paths";

describe("npx aks-egress in a built checkout", () => {
  it("runs the built CLI at once, without rebuilding dist/", () => {
    const entry = path.join(ROOT, "dist", "cli", "main.js");
    const builtAt = fs.statSync(entry).mtimeMs;
    // A user's shell: none of the npm_* variables `npm test` sets, and an npx cache never used before.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")),
    );
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "aks-egress-npx-cache-"));
    try {
      const started = Date.now();
      const run = spawnSync("npx", ["aks-egress", "--version"], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...env, npm_config_cache: cache, npm_config_update_notifier: "false" },
        timeout: 110_000,
      });
      const seconds = (Date.now() - started) / 1000;
      expect(run.stderr).not.toMatch(/error/i);
      expect(run.status).toBe(0);
      expect(run.stdout.trim()).toBe(
        (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version,
      );
      expect(fs.statSync(entry).mtimeMs, "dist/ was rebuilt").toBe(builtAt);
      expect(seconds).toBeLessThan(20);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  }, 120_000);
});
