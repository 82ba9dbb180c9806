// Each measurement runs in a fresh Node process: app settings are process environment (one host per
// process), peak RSS and load times must not carry over, and a stuck run can be killed on its own.
import { spawn } from "node:child_process";
import path from "node:path";

const MARK = "BENCH_RESULT ";

/** Runs dist/bench/workers/<name>.js with one JSON argument; resolves with the JSON it reports. */
export function runWorker<T>(
  name: string,
  args: unknown,
  options: { timeoutMs: number; nodeArgs?: string[] },
): Promise<T> {
  const file = path.join(__dirname, "..", "workers", `${name}.js`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), file, JSON.stringify(args)], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`bench worker ${name} ${JSON.stringify(args)} took over ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const line = stdout.split("\n").find((l) => l.startsWith(MARK));
      if (code !== 0 || line === undefined) {
        reject(
          new Error(
            `bench worker ${name} ${JSON.stringify(args)} exited ${code}:\n${stderr.slice(-4000) || stdout.slice(-4000)}`,
          ),
        );
        return;
      }
      resolve(JSON.parse(line.slice(MARK.length)) as T);
    });
  });
}

/** A worker's entry point: reads its JSON argument, reports one JSON result, and exits. */
export function workerMain<A, R>(run: (args: A) => Promise<R>): void {
  const args = JSON.parse(process.argv[2] ?? "{}") as A;
  run(args).then(
    (result) => {
      process.stdout.write(`${MARK}${JSON.stringify(result)}\n`, () => process.exit(0));
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
