// Starts the local functions host on the sample app (test/fixtures/sample-app) with a fresh state
// directory, collecting every log entry and reading back the app's recorded side effects.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type FunctionsHost, type HostLogEntry, startFunctionsHost } from "../../../local/functions-host";
import { type Effect, readEffects } from "../../fixtures/sample-app/effects";

export const SAMPLE_APP = path.resolve(__dirname, "..", "..", "fixtures", "sample-app");
export const SAMPLE_ENTRY = path.join(SAMPLE_APP, "index.ts");

export interface SampleHost {
  host: FunctionsHost;
  logs: HostLogEntry[];
  stateDir: string;
  effectsFile: string;
  effects(): Effect[];
  /** Invocation log lines of one function. */
  invocations(functionName: string): Extract<HostLogEntry, { kind: "invocation" }>[];
}

export interface SampleHostOptions {
  stateDir?: string;
  effectsFile?: string;
  entryFiles?: string[];
  settings?: Record<string, string>;
  runTimers?: boolean;
  onLog?: (entry: HostLogEntry) => void;
}

const stateDirs: string[] = [];
process.once("exit", () => {
  for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh state directory, removed when the test process exits. */
export function newStateDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "local-functions-host-"));
  stateDirs.push(dir);
  return dir;
}

export async function startSampleHost(options: SampleHostOptions = {}): Promise<SampleHost> {
  const ownsStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? newStateDir();
  const effectsFile = options.effectsFile ?? path.join(stateDir, "effects.jsonl");
  const logs: HostLogEntry[] = [];
  const start = startFunctionsHost({
    entryFiles: options.entryFiles ?? [SAMPLE_ENTRY],
    port: 0,
    stateDir,
    runTimers: options.runTimers ?? false,
    keys: { master: "test-master-key", function: "test-function-key" },
    settings: { SAMPLE_APP_EFFECTS: effectsFile, SWEEP_SCHEDULE: "0 0 */6 * * *", ...options.settings },
    logger: (entry) => {
      logs.push(entry);
      options.onLog?.(entry);
    },
  });
  let host: FunctionsHost;
  try {
    host = await start;
  } catch (error) {
    if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
  if (ownsStateDir) {
    const close = host.close;
    host.close = async () => {
      await close();
      rmSync(stateDir, { recursive: true, force: true });
    };
  }
  return {
    host,
    logs,
    stateDir,
    effectsFile,
    effects: () => readEffects(effectsFile),
    invocations: (functionName) =>
      logs.filter(
        (e): e is Extract<HostLogEntry, { kind: "invocation" }> =>
          e.kind === "invocation" && e.functionName === functionName,
      ),
  };
}
