import { spawnSync } from "node:child_process";
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
