// `npm start -- --help` and `npm run demo -- --help` name every option and command, one line each,
// and the README's "Running locally" lists them all; its walkthrough's history step says what is
// really printed and kept (the runs themselves are checked in runtime-restart.test.ts).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEMO_COMMANDS, DEMO_OPTIONS } from "../../local/runtime/demo-commands";
import { START_OPTIONS } from "../../local/runtime/options";
import { ROOT } from "../helpers/paths";
import { runDemo, runStart } from "./runtime-helpers";

/** The README from "## Running locally" to the next "## " heading (the walkthrough included). */
function runningLocally(): string {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("\n## Running locally");
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end);
}

describe("npm start -- --help", () => {
  it("prints every option, one line each, and exits 0 without starting anything", async () => {
    const ran = await runStart(["--help"]);
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.ms).toBeLessThan(10_000);
    expect(ran.stdout).not.toContain("app at");
    const names = Object.keys(START_OPTIONS);
    for (const name of [
      "cloud",
      "base-port",
      "state-dir",
      "reset",
      "no-sweep",
      "no-catalog-demo",
      "exit-when-done",
      "events",
      "help",
    ])
      expect(names).toContain(name);
    for (const name of names) {
      const lines = ran.stdout.split("\n").filter((l) => new RegExp(`^\\s+(-\\w, )?--${name}\\b`).test(l));
      expect(lines, `--${name}`).toHaveLength(1);
      // Something is said about it on that line.
      expect((lines[0] ?? "").replace(/^\s+\S+(\s\S+)?\s+/, "").length, `--${name}`).toBeGreaterThan(15);
    }
  });

  it("an unknown option fails with a pointer to --help", async () => {
    const ran = await runStart(["--no-such-option"]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain("--no-such-option");
    expect(ran.stderr).toContain("npm start -- --help");
    expect(ran.stdout).not.toContain("app at");
  });
});

describe("npm run demo -- --help", () => {
  it("prints every command and option, one line each", async () => {
    const ran = await runDemo(["--help"]);
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    for (const command of ["add-gpu-pool", "approve", "ask-again", "status"])
      expect(Object.keys(DEMO_COMMANDS)).toContain(command);
    for (const command of Object.keys(DEMO_COMMANDS))
      expect(ran.stdout.split("\n").filter((l) => new RegExp(`^\\s+${command}\\b`).test(l))).toHaveLength(1);
    for (const option of Object.keys(DEMO_OPTIONS))
      expect(ran.stdout.split("\n").filter((l) => new RegExp(`^\\s+--${option}\\b`).test(l))).toHaveLength(1);
  });

  it("a state directory without a running npm start is named as it is", async () => {
    const missing = path.join(ROOT, "no-such-state-dir-for-the-test");
    const ran = await runDemo(["--state-dir", missing, "status"]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(missing);
    expect(ran.stderr).not.toContain(".local-state");
  });
});

describe("README: Running locally", () => {
  const section = runningLocally();

  it("lists every option of npm start and every command and option of npm run demo", () => {
    for (const name of Object.keys(START_OPTIONS)) expect(section, `--${name}`).toContain(`\`--${name}`);
    for (const command of Object.keys(DEMO_COMMANDS))
      expect(section, command).toContain(`npm run demo -- ${command}`);
    for (const option of Object.keys(DEMO_OPTIONS)) expect(section, `--${option}`).toContain(`--${option}`);
  });

  it("says precisely what the history step shows, and where the rest is", () => {
    // It used to promise AksEgressGuard.* lines in npm start's output, which it never printed.
    expect(section).not.toMatch(/every step is an `AksEgressGuard\.\*` line in the `npm start` output/);
    expect(section).toContain("--events");
    expect(section).toContain("traces.log");
    expect(section).toMatch(/current execution/);
    expect(section).toMatch(/continue[sd]? as new/);
  });

  it("says what a restart does with a pending approval", () => {
    expect(section).toMatch(/restart/i);
    expect(section).toContain("approval-links.json");
    expect(section).toContain("npm run demo -- ask-again");
  });
});
