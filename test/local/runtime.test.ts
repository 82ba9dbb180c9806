// The local runtime as a new user meets it: `npm start`'s program, on free ports, to its table;
// its output holds no master or system key, and its state is readable by the user only.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/paths";

describe("npm start", () => {
  it("runs every cloud's estate, sweeps, and shows what it fixed and what waits for approval", async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-egress-start-"));
    const script = path.join(ROOT, "dist", "local", "runtime", "start.js");
    const child = spawn(
      process.execPath,
      [script, "--state-dir", stateDir, "--base-port", "0", "--exit-when-done"],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(err).toBe("");
    expect(code).toBe(0);
    const row = (cloud: string) => out.split("\n").find((l) => l.startsWith(`| ${cloud} `)) ?? "";
    expect(row("AzureCloud")).toMatch(
      /fw-hub-westeurope\s+\|\s+3\s+\|\s+\+1 ~4 -2\s+\|\s+waiting for approval\s+\|\s+[0-9a-f-]{36}\s+\|/,
    );
    // The link, whole (a table would wrap or cut it), under the table.
    expect(out).toMatch(
      /\nApproval links [^\n]*\n {2}\[AzureCloud\] fw-hub-westeurope: http:\/\/127\.0\.0\.1:\d+\/api\/approvals\/[0-9a-f-]{36}\?token=[\w.-]+\n/,
    );
    expect(row("AzureChinaCloud")).toMatch(/fw-hub-chinaeast2\s+\|\s+1\s+\|\s+\+5 ~0 -0\s+\|\s+auto-fixed/);
    expect(row("AzureUSGovernment")).toMatch(
      /fw-hub-usgovvirginia\s+\|\s+1\s+\|\s+\+2 ~1 -0\s+\|\s+auto-fixed/,
    );
    expect(out).toContain("[AzureChinaCloud] fw-hub-chinaeast2: applied with 1 write(s); converged: true");
    // The firewall's state is kept for the next start.
    expect(fs.existsSync(path.join(stateDir, "AzureChinaCloud", "arm-estate.json"))).toBe(true);

    // The function key of the README's walkthrough is printed; the master and system keys are not:
    // they are generated for this state directory and kept in host-keys.json, as the banner says.
    const keys = JSON.parse(fs.readFileSync(path.join(stateDir, "host-keys.json"), "utf8")) as {
      master: string;
      function: string;
      system: Record<string, string>;
    };
    expect(keys.function).toBe("local-function-key");
    expect(out).toContain('-H "x-functions-key: local-function-key"');
    expect(out).toContain("the master and system keys are in ");
    for (const secret of [keys.master, ...Object.values(keys.system)]) {
      expect(secret).toMatch(/^[A-Za-z0-9_-]{40}$/);
      expect(out).not.toContain(secret);
    }
    const runtime = JSON.parse(fs.readFileSync(path.join(stateDir, "runtime.json"), "utf8")) as {
      keys: typeof keys;
    };
    expect(runtime.keys).toEqual(keys);

    // Every state file (keys, signing key, approval links, runtime.json, estates, task hubs, timer
    // monitors) is 0600, every directory 0700.
    const open: string[] = [];
    const pending = [stateDir];
    let files = 0;
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const stat = fs.statSync(next);
      const wanted = stat.isDirectory() ? 0o700 : 0o600;
      if (!stat.isDirectory()) files++;
      if ((stat.mode & 0o777) !== wanted) open.push(`${(stat.mode & 0o777).toString(8)} ${next}`);
      if (stat.isDirectory()) for (const name of fs.readdirSync(next)) pending.push(path.join(next, name));
    }
    expect(files).toBeGreaterThan(10);
    expect(open).toEqual([]);
    fs.rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);
});
