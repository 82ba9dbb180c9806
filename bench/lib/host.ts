// The app as deployed, run locally: the built functions (dist/functions/*.js) in the local Functions
// host, with the real durable-functions replay, configured as test/orchestrations/app-harness.ts
// configures it against the ARM emulator.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type FunctionsHost, type HostLogEntry, startFunctionsHost } from "../../local/functions-host";
import { POLICY_ID } from "./ids";
import { ROOT } from "./paths";

const KEYS = { master: "bench-master-key", function: "bench-function-key" };

export interface BenchHost {
  host: FunctionsHost;
  logs: HostLogEntry[];
  /** POSTs one event to the Event Grid webhook, as Event Grid delivers it. */
  sendEvent(event: unknown): Promise<void>;
  /** Runs a timer function now (the admin API, master key). */
  runTimer(name: string): Promise<void>;
  phase(): Promise<string | undefined>;
  /** How many `AksEgressGuard.<name>` lines the app logged. */
  count(name: string): number;
  /** Resolves once every pass started has completed and the reconciler stays idle for quietMs. */
  settle(timeoutMs: number, quietMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startBenchHost(settings: Record<string, string>): Promise<BenchHost> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-egress-bench-"));
  const logs: HostLogEntry[] = [];
  const host = await startFunctionsHost({
    entryFiles: [path.join(ROOT, "dist", "functions", "*.js")],
    port: 0,
    stateDir,
    runTimers: false,
    keys: KEYS,
    logger: (entry) => logs.push(entry),
    settings,
  });
  const webhook = `${host.url}/runtime/webhooks/eventgrid?functionName=armEvents&code=${host.keys.system.eventgrid_extension}`;
  const count = (name: string) =>
    logs.filter((l) => l.kind === "log" && l.message.startsWith(`AksEgressGuard.${name} `)).length;
  const phase = async () => {
    const response = await fetch(`${host.url}/api/status?policy=${encodeURIComponent(POLICY_ID)}`, {
      headers: { "x-functions-key": KEYS.function },
    });
    return ((await response.json()) as { phase?: string }).phase;
  };
  return {
    host,
    logs,
    async sendEvent(event) {
      const response = await fetch(webhook, {
        method: "POST",
        headers: { "aeg-event-type": "Notification", "Content-Type": "application/json" },
        body: JSON.stringify([event]),
      });
      await response.arrayBuffer();
      if (response.status >= 300) throw new Error(`the Event Grid webhook answered ${response.status}`);
    },
    async runTimer(name) {
      const response = await fetch(`${host.url}/admin/functions/${name}`, {
        method: "POST",
        headers: { "x-functions-key": KEYS.master, "Content-Type": "application/json" },
        body: "{}",
      });
      await response.arrayBuffer();
      if (response.status !== 202) throw new Error(`running ${name} answered ${response.status}`);
    },
    phase,
    count,
    async settle(timeoutMs, quietMs = 1000) {
      const deadline = Date.now() + timeoutMs;
      let quietSince: number | undefined;
      for (;;) {
        if (Date.now() > deadline) throw new Error(`the reconciler did not settle within ${timeoutMs} ms`);
        const started = count("PassStarted");
        const quiet = started > 0 && started === count("PassCompleted") && (await phase()) === "idle";
        if (!quiet) quietSince = undefined;
        else if (quietSince === undefined) quietSince = Date.now();
        else if (Date.now() - quietSince >= quietMs) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const failed = logs.find((l) => l.kind === "log" && l.message.startsWith("AksEgressGuard.PassFailed "));
      if (failed) throw new Error(`a pass failed: ${JSON.stringify(failed)}`);
    },
    async close() {
      await host.close();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
