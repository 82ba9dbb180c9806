import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { ROOT } from "./paths";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `aks-egress` as a user would (`npm test` builds first). */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const result = spawnSync(process.execPath, [path.join(ROOT, "bin", "aks-egress.js"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** A Node script of this project, run without blocking this process; its exit code, output and time. */
export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runNode(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<NodeRun> {
  const began = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - began }));
  });
}

/** The CLI without blocking this process: needed when this process also serves the CLI (the emulator). */
export async function runCliAsync(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const { code, stdout, stderr } = await runNode(path.join(ROOT, "bin", "aks-egress.js"), args, env);
  return { code: code ?? -1, stdout, stderr };
}
