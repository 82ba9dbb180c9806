// Runs `npm start`'s program and `npm run demo` as a user would (built: `npm test` builds first), on
// free ports and a temporary state directory, so tests never meet a user's own `npm start`.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { type NodeRun, runNode } from "../helpers/cli";
import { ROOT } from "../helpers/paths";

export const START = path.join(ROOT, "dist", "local", "runtime", "start.js");
export const DEMO = path.join(ROOT, "dist", "local", "runtime", "demo.js");

export interface Started {
  child: ChildProcess;
  /** Everything printed to stdout so far. */
  out(): string;
  err(): string;
  /** Resolves with the output once `pattern` matches it; rejects after `timeoutMs` or if it exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Ctrl-C, and waits for the exit. */
  stop(): Promise<number | null>;
}

export function startRuntime(args: readonly string[], env: NodeJS.ProcessEnv = {}): Started {
  const child = spawn(process.execPath, [START, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      done = true;
      for (const l of listeners) l();
      resolve(code);
    }),
  );
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    waitFor(pattern, timeoutMs = 90_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = out.match(pattern);
          if (match) {
            finish();
            resolve(match);
          } else if (done) {
            finish();
            reject(new Error(`exited before ${pattern} was printed:\n${out}\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${pattern} not printed within ${timeoutMs} ms:\n${out}\n${err}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (!done) child.kill("SIGINT");
      return exited;
    },
  };
}

export type Ran = NodeRun;

export const runStart = (args: readonly string[], env: NodeJS.ProcessEnv = {}) => runNode(START, args, env);

/** `npm run demo -- …`, not blocking this process. */
export const runDemo = (args: readonly string[], env: NodeJS.ProcessEnv = {}) => runNode(DEMO, args, env);

/** The host URL `npm start` printed for a cloud. */
export function appUrl(out: string, cloud: string): string {
  const match = out.match(new RegExp(`\\[${cloud}\\] app at (http://127\\.0\\.0\\.1:\\d+)`));
  if (!match?.[1]) throw new Error(`no app URL for ${cloud} in:\n${out}`);
  return match[1];
}

/** Approval links printed (full, with their token), in order. */
export function approvalLinks(out: string): string[] {
  return [
    ...out.matchAll(/http:\/\/127\.0\.0\.1:\d+\/api\/approvals\/[0-9a-f-]+\?token=[A-Za-z0-9_.%-]+/g),
  ].map((m) => m[0]);
}
