// The whole app for tests: the ARM emulator, and the local Functions host running the built
// functions (dist/functions/*.js, as deployed) through the real durable-functions replay.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type ArmEmulator, startArmEmulator } from "../../local/arm-emulator";
import { type FunctionsHost, type HostLogEntry, startFunctionsHost } from "../../local/functions-host";
import type { ReconcilerStatus } from "../../orchestrations/reconciler";
import { ROOT } from "../helpers/paths";
import { POLICY_ID, SMALL_ESTATE } from "../local/arm-emulator-helpers";

export const SIGNING_KEY = "test-signing-key-0123456789-abcdefghij";
export const APP_OBJECT_ID = "9d3f6b2e-5a4c-4e1f-9b8a-7c6d5e4f3a21";

export interface AppUnderTest {
  emulator: ArmEmulator;
  host: FunctionsHost;
  logs: HostLogEntry[];
  /** POSTs events to the Event Grid webhook as Event Grid would; returns the HTTP status. */
  sendEvents(events: unknown[]): Promise<number>;
  status(): Promise<ReconcilerStatus & { runtimeStatus: string }>;
  /** Waits until the reconciler has recorded pass `pass` (and is idle again). */
  waitForPass(pass: number, timeoutMs?: number): Promise<ReconcilerStatus & { runtimeStatus: string }>;
  waitForPhase(
    phase: ReconcilerStatus["phase"],
    timeoutMs?: number,
  ): Promise<ReconcilerStatus & { runtimeStatus: string }>;
  /** The approval links the app published to the notification topic, newest last, on this host's URL. */
  approvalLinks(): string[];
  /** Calls the Durable HTTP API with the system key, e.g. `instances/ID/terminate`. */
  durable(pathAndQuery: string, init?: RequestInit): Promise<Response>;
  /** Lines of our structured events, e.g. "AksEgressGuard.EventDropped". */
  events(name: string): Record<string, unknown>[];
  successfulPuts(): number;
  close(): Promise<void>;
}

export async function startApp(
  options: {
    settings?: Record<string, string>;
    seedFile?: string;
    stateDir?: string;
    emulator?: ArmEmulator;
    /** Local Durable engine options (e.g. at-least-once activities). */
    durable?: Parameters<typeof startFunctionsHost>[0]["durable"];
  } = {},
): Promise<AppUnderTest> {
  const emulator =
    options.emulator ??
    (await startArmEmulator({ seedFile: options.seedFile ?? SMALL_ESTATE, lroDelayMs: 20 }));
  const stateDir = options.stateDir ?? mkdtempSync(path.join(tmpdir(), "aks-egress-app-"));
  const logs: HostLogEntry[] = [];
  const host = await startFunctionsHost({
    entryFiles: [path.join(ROOT, "dist", "functions", "*.js")],
    port: 0,
    stateDir,
    runTimers: false,
    ...(options.durable ? { durable: options.durable } : {}),
    keys: { master: "test-master-key", function: "test-function-key" },
    logger: (entry) => logs.push(entry),
    settings: {
      AKS_EGRESS_TASK_HUB: "testhub",
      AKS_EGRESS_FIREWALL_POLICIES: POLICY_ID,
      AKS_EGRESS_APPROVAL_SIGNING_KEY: SIGNING_KEY,
      AKS_EGRESS_APP_OBJECT_ID: APP_OBJECT_ID,
      AKS_EGRESS_ARM_ENDPOINT: emulator.endpoint,
      AKS_EGRESS_ARM_CA_FILE: emulator.caFile,
      AKS_EGRESS_DEBOUNCE_SECONDS: "1",
      AKS_EGRESS_MODE: "auto",
      AKS_EGRESS_SWEEP_SCHEDULE: "0 0 */6 * * *",
      AKS_EGRESS_CATALOG_WATCH_SCHEDULE: "0 30 5 * * *",
      // Approval links go only to the notification topic; the emulator stands in for it.
      AKS_EGRESS_NOTIFICATION_TOPIC_ENDPOINT: emulator.topicEndpoint,
      AKS_EGRESS_NOTIFICATION_TOPIC_KEY: "test-topic-key",
      AKS_EGRESS_CATALOG_STORE_URL: emulator.catalogStoreUrl,
      ...options.settings,
    },
  });
  const fnKey = { "x-functions-key": "test-function-key" };

  const status = async () => {
    const response = await fetch(`${host.url}/api/status?policy=${encodeURIComponent(POLICY_ID)}`, {
      headers: fnKey,
    });
    return (await response.json()) as ReconcilerStatus & { runtimeStatus: string };
  };
  const poll = async (
    done: (s: Awaited<ReturnType<typeof status>>) => boolean,
    what: string,
    timeoutMs = 20_000,
  ) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await status();
      if (done(s)) return s;
      if (Date.now() > deadline) {
        const failures = logs
          .filter((l) => l.kind === "invocation" && l.result === "Failed")
          .map((l) => JSON.stringify(l));
        throw new Error(
          `timed out waiting for ${what}; phase ${s.phase}, pass ${s.pass}; failed invocations: ${failures.join("\n") || "none"}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const messages = () => logs.flatMap((l) => (l.kind === "log" ? [l.message] : []));

  return {
    emulator,
    host,
    logs,
    async sendEvents(events) {
      const response = await fetch(
        `${host.url}/runtime/webhooks/eventgrid?functionName=armEvents&code=${host.keys.system.eventgrid_extension}`,
        {
          method: "POST",
          headers: { "aeg-event-type": "Notification", "Content-Type": "application/json" },
          body: JSON.stringify(events),
        },
      );
      return response.status;
    },
    status,
    waitForPass: (pass, timeoutMs) =>
      poll((s) => (s.last?.pass ?? 0) >= pass && s.phase === "idle", `pass ${pass}`, timeoutMs),
    waitForPhase: (phase, timeoutMs) => poll((s) => s.phase === phase, `phase ${phase}`, timeoutMs),
    approvalLinks: () =>
      emulator
        .notifications()
        .filter((event) => event.type === "AksEgressGuard.ApprovalRequested")
        .map((event) => {
          const link = new URL((event.data as { link: string }).link);
          return `${host.url}${link.pathname}${link.search}`;
        }),
    durable: (pathAndQuery, init) => {
      const url = new URL(`${host.url}/runtime/webhooks/durabletask/${pathAndQuery}`);
      url.searchParams.set("code", host.keys.system.durabletask_extension);
      return fetch(url, init);
    },
    events: (name) =>
      messages()
        .filter((m) => m.startsWith(`${name} `))
        .map((m) => JSON.parse(m.slice(m.indexOf("{"))) as Record<string, unknown>),
    successfulPuts: () => emulator.requests().filter((r) => r.method === "PUT" && r.status < 300).length,
    async close() {
      await host.close();
      if (options.emulator === undefined) await emulator.close();
      if (options.stateDir === undefined) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
