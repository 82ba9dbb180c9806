// What the local host keeps on disk (task hub instances, timer monitors, generated keys) holds
// orchestration inputs, raised events and keys: files are 0600 and directories 0700 whatever the
// umask, and the start line (what `node dist/local/functions-host/main.js` prints) shows no master
// or system key, only where they are kept.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { KEYS_FILE } from "../../../local/functions-host/keys";
import { ROOT } from "../../helpers/paths";
import { newStateDir, SAMPLE_ENTRY, startSampleHost } from "./sample-host";

/** Every file and directory under `dir` (itself included), with its permission bits. */
function modes(dir: string): { path: string; mode: number; directory: boolean }[] {
  const found: { path: string; mode: number; directory: boolean }[] = [];
  const pending = [dir];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const stat = fs.statSync(next);
    found.push({
      path: path.relative(dir, next) || ".",
      mode: stat.mode & 0o777,
      directory: stat.isDirectory(),
    });
    if (stat.isDirectory()) for (const name of fs.readdirSync(next)) pending.push(path.join(next, name));
  }
  return found;
}

function expectPrivate(dir: string): void {
  const entries = modes(dir);
  expect(entries.filter((e) => !e.directory).length).toBeGreaterThan(0);
  for (const entry of entries) {
    expect({ path: entry.path, mode: entry.mode.toString(8) }).toEqual({
      path: entry.path,
      mode: entry.directory ? "700" : "600",
    });
  }
}

describe("the local host's state files", () => {
  it("are created 0600 in 0700 directories, even with a permissive umask", async () => {
    const stateDir = path.join(newStateDir(), "nested", "state");
    const previous = process.umask(0);
    try {
      // The sample app's own effects file is not the runtime's: it lives elsewhere.
      const effectsFile = path.join(newStateDir(), "effects.jsonl");
      const sample = await startSampleHost({ stateDir, effectsFile, runTimers: true });
      try {
        await sample.host.durable.client().startNew("approvalOrchestrator", {
          instanceId: "private-1",
          input: { timeoutMs: 60_000 },
        });
        await sample.host.durable.client().startNew("retryOrchestrator", {
          instanceId: "private-2",
          input: { failTimes: 1 },
        });
        await sample.host.idle();
        await sample.host.durable.client().raiseEvent("private-1", "approval", { approver: "bob" });
        await sample.host.idle();
        // A timer run on demand writes its schedule monitor.
        const run = await fetch(`${sample.host.url}/admin/functions/sweep`, {
          method: "POST",
          headers: { "x-functions-key": sample.host.keys.master, "content-type": "application/json" },
          body: "{}",
        });
        expect(run.status).toBe(202);
        await sample.host.idle();
      } finally {
        await sample.host.close();
      }
    } finally {
      process.umask(previous);
    }
    const files = modes(stateDir).map((e) => e.path);
    expect(files).toEqual(expect.arrayContaining([KEYS_FILE, path.join("durable", "instances")]));
    expect(files.some((f) => f.startsWith(`durable${path.sep}instances${path.sep}`))).toBe(true);
    expect(files.some((f) => f.startsWith(`timers${path.sep}`))).toBe(true);
    expectPrivate(stateDir);
  });

  it("makes the runtime's own directories 0700 again when an older run left them open", async () => {
    const stateDir = newStateDir();
    for (const dir of ["durable", path.join("durable", "instances"), "timers"]) {
      fs.mkdirSync(path.join(stateDir, dir), { recursive: true });
      fs.chmodSync(path.join(stateDir, dir), 0o755);
    }
    const sample = await startSampleHost({ stateDir });
    await sample.host.close();
    for (const dir of ["durable", path.join("durable", "instances"), "timers"])
      expect((fs.statSync(path.join(stateDir, dir)).mode & 0o777).toString(8)).toBe("700");
  });
});

describe("the local host's start line", () => {
  it("shows the function key and where the other keys are, never the master or system keys", async () => {
    const stateDir = newStateDir();
    const settingsFile = path.join(stateDir, "local.settings.json");
    fs.writeFileSync(
      settingsFile,
      JSON.stringify({
        Values: { SAMPLE_APP_EFFECTS: path.join(stateDir, "effects.jsonl"), SWEEP_SCHEDULE: "0 0 */6 * * *" },
      }),
    );
    const child = spawn(
      process.execPath,
      [
        path.join(ROOT, "dist", "local", "functions-host", "main.js"),
        "--entry",
        SAMPLE_ENTRY,
        "--port",
        "0",
        "--state-dir",
        stateDir,
        "--settings",
        settingsFile,
        "--no-timers",
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes('"Functions host started"')) resolve();
        });
        child.on("exit", (code) => reject(new Error(`the host exited (${code}): ${err}`)));
      });
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.on("close", resolve));
    }
    const keysFile = path.join(stateDir, KEYS_FILE);
    const keys = JSON.parse(fs.readFileSync(keysFile, "utf8")) as {
      master: string;
      function: string;
      system: Record<string, string>;
    };
    expect((fs.statSync(keysFile).mode & 0o777).toString(8)).toBe("600");
    const started = JSON.parse(
      out.split("\n").find((l) => l.includes('"Functions host started"')) ?? "{}",
    ) as Record<string, unknown>;
    expect(started).toMatchObject({ functionKey: keys.function, keysFile });
    for (const secret of [keys.master, ...Object.values(keys.system)]) {
      expect(secret.length).toBeGreaterThan(20);
      expect(out).not.toContain(secret);
      expect(out).not.toContain(encodeURIComponent(secret));
    }
  });

  it("keeps generated keys for the next start in the same state directory", async () => {
    const stateDir = newStateDir();
    const first = await startSampleHost({ stateDir });
    await first.host.close();
    const second = await startSampleHost({ stateDir });
    await second.host.close();
    expect(second.host.keys.system).toEqual(first.host.keys.system);
    expect(second.host.keys.master).toBe("test-master-key");
  });
});
