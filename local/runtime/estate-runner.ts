// One cloud's local deployment: the ARM emulator seeded with that cloud's estate, and the app's real
// functions in the local host, configured for that cloud. One per process, because app settings are
// process environment (as in Azure, where a deployment talks to one cloud). Driven by start.ts over
// the IPC channel; usable alone: node dist/local/runtime/estate-runner.js <cloud> <port> <stateDir> <estate.json>
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import type { Cloud } from "../../catalog";
import { type ArmEmulator, startArmEmulator } from "../arm-emulator";
import { type FunctionsHost, type HostLogEntry, startFunctionsHost } from "../functions-host";
import type { HostKeyOptions } from "../functions-host/keys";
import { PRIVATE_FILE_MODE, privateDir, writePrivateFileSync } from "../functions-host/private-files";
import { driftOf, pendingIn, policyStatus } from "./approvals";
import { TRACES_FILE } from "./options";

export interface RunnerConfig {
  cloud: Cloud;
  /** Host port (0: any free port). */
  port: number;
  stateDir: string;
  estateFile: string;
  /** Settings from local.settings.json and the demo's defaults; the runner adds cloud, policy, ARM. */
  settings: Record<string, string>;
  keys: HostKeyOptions;
}

/** An approval the reconciler's status shows as pending when the host starts (never its link). */
export interface PendingAtStart {
  policyId: string;
  approvalId: string;
  expiresAt: string;
  summary: string;
  reasons: string[];
  /** "+3 ~8 -14", when the status has the plan. */
  drift?: string;
}

export type RunnerMessage =
  | {
      kind: "ready";
      cloud: Cloud;
      url: string;
      armEndpoint: string;
      caFile: string;
      policies: string[];
      clusters: string[];
      /** Approvals still pending from an earlier run (a restart): known at once, not at the next pass. */
      pending: PendingAtStart[];
      /** Policies whose status could not be read at start (then a pending approval is not known yet). */
      unread: { policyId: string; error: string }[];
    }
  | { kind: "log"; cloud: Cloud; entry: HostLogEntry }
  /** An approval link the app published to the (emulated) notification topic. */
  | {
      kind: "approval";
      cloud: Cloud;
      policyId: string;
      approvalId: string;
      expiresAt?: string;
      link: string;
    }
  | { kind: "error"; cloud: Cloud; message: string };

const root = path.resolve(__dirname, "..", "..", "..");

/** The port the host will listen on, known before the app loads (approval links carry it). */
function freePort(wanted: number): Promise<number> {
  if (wanted !== 0) return Promise.resolve(wanted);
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The estate as the app last left it (so a restart keeps the firewall's state), else the seed. */
function estateToLoad(config: RunnerConfig): string {
  const saved = path.join(config.stateDir, "arm-estate.json");
  return fs.existsSync(saved) ? saved : config.estateFile;
}

/**
 * Appends the app's AksEgressGuard.* traces to a file: what Application Insights keeps in Azure. The
 * Durable history shows only the reconciler's current execution (it continues as new after every
 * pass); this file has every pass of every run. It never holds a link (the app never logs one).
 */
function traceWriter(file: string): (entry: HostLogEntry) => void {
  let checked = false;
  return (entry) => {
    if (entry.kind !== "log" || !entry.message.startsWith("AksEgressGuard.")) return;
    try {
      fs.appendFileSync(file, `${entry.time} ${entry.message.replaceAll("\n", " ")}\n`, {
        mode: PRIVATE_FILE_MODE,
      });
      if (!checked) fs.chmodSync(file, PRIVATE_FILE_MODE);
      checked = true;
    } catch {
      // A full disk must not stop the app; the lines still reach npm start's window.
    }
  };
}

/** GET /api/status, tried a few times: the host has only just started. */
async function statusAtStart(host: FunctionsHost, policyId: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await policyStatus(host.url, host.keys.function, policyId);
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

/** The approvals the reconcilers' status shows as pending (a restart's), read through the status API. */
async function pendingApprovals(
  host: FunctionsHost,
  policies: string[],
): Promise<{ pending: PendingAtStart[]; unread: { policyId: string; error: string }[] }> {
  const pending: PendingAtStart[] = [];
  const unread: { policyId: string; error: string }[] = [];
  for (const policyId of policies) {
    let status: Awaited<ReturnType<typeof policyStatus>>;
    try {
      status = await statusAtStart(host, policyId);
    } catch (error) {
      unread.push({ policyId, error: error instanceof Error ? error.message : String(error) });
      continue;
    }
    const approval = pendingIn(status);
    if (approval === undefined) continue;
    const drift = driftOf(status);
    pending.push({
      policyId,
      approvalId: approval.approvalId,
      expiresAt: approval.expiresAt,
      summary: approval.summary,
      reasons: approval.reasons,
      ...(drift ? { drift } : {}),
    });
  }
  return { pending, unread };
}

export async function runEstate(config: RunnerConfig, send: (message: RunnerMessage) => void) {
  // This cloud's state (estate, task hub, keys in transit) is private: directories 0700, files 0600.
  privateDir(config.stateDir, true);
  privateDir(path.join(config.stateDir, "host"), true);
  const tracesFile = path.join(config.stateDir, TRACES_FILE);
  const trace = traceWriter(tracesFile);
  const emulator: ArmEmulator = await startArmEmulator({ seedFile: estateToLoad(config), lroDelayMs: 1500 });
  const state = emulator.state();
  const policies = state.firewallPolicies.map((p) => String(p.id));
  let saved = "";
  const save = () => {
    const now = JSON.stringify(emulator.state(), null, 2);
    if (now !== saved) {
      writePrivateFileSync(path.join(config.stateDir, "arm-estate.json"), now);
      saved = now;
    }
  };
  const saver = setInterval(save, 1000);

  let host: FunctionsHost;
  try {
    const port = await freePort(config.port);
    host = await startFunctionsHost({
      entryFiles: [path.join(root, "dist", "functions", "*.js")],
      port,
      stateDir: path.join(config.stateDir, "host"),
      keys: config.keys,
      logger: (entry) => {
        trace(entry);
        send({ kind: "log", cloud: config.cloud, entry });
      },
      settings: {
        ...config.settings,
        AKS_EGRESS_CLOUD: config.cloud,
        AKS_EGRESS_FIREWALL_POLICIES: policies.join(","),
        AKS_EGRESS_ARM_ENDPOINT: emulator.endpoint,
        AKS_EGRESS_ARM_CA_FILE: emulator.caFile,
        // Public API servers' addresses: the emulator's DNS answers for its clusters' FQDNs.
        AKS_EGRESS_RESOLVERS: emulator.dnsServer,
        AKS_EGRESS_PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        // Approval links go only to a notification topic; the emulator serves a stand-in for one.
        AKS_EGRESS_NOTIFICATION_TOPIC_ENDPOINT: emulator.topicEndpoint,
        AKS_EGRESS_NOTIFICATION_TOPIC_KEY: "local-topic-key",
        // The catalog watch's store (what it last saw, offered pages, each policy's answer): the
        // emulator's stand-in Blob service, like the ARM endpoint per estate.
        AKS_EGRESS_CATALOG_STORE_URL: emulator.catalogStoreUrl,
      },
    });
  } catch (error) {
    clearInterval(saver);
    await emulator.close();
    throw error;
  }
  // After a restart an approval may be pending already: its request went to the topic in an earlier
  // run, and no pass asks again, so npm start learns of it here, at once.
  const { pending, unread } = await pendingApprovals(host, policies);
  // Links in approval requests point at this host.
  send({
    kind: "ready",
    cloud: config.cloud,
    url: host.url,
    armEndpoint: emulator.endpoint,
    caFile: emulator.caFile,
    policies,
    clusters: state.managedClusters.map((c) => String(c.id)),
    pending,
    unread,
  });
  // What a Teams or Logic Apps subscriber to the topic would receive, handed to npm start's window.
  let seen = 0;
  const relay = setInterval(() => {
    const events = emulator.notifications();
    for (const event of events.slice(seen)) {
      const data = event.data as
        | { policyId?: string; approvalId?: string; expiresAt?: string; link?: string }
        | undefined;
      if (data?.link && data.policyId && data.approvalId)
        send({
          kind: "approval",
          cloud: config.cloud,
          policyId: data.policyId,
          approvalId: data.approvalId,
          ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}),
          link: data.link,
        });
    }
    seen = events.length;
  }, 250);
  return {
    host,
    emulator,
    async close() {
      clearInterval(relay);
      clearInterval(saver);
      save();
      await host.close();
      await emulator.close();
    },
  };
}

if (require.main === module) {
  // Forked by start.ts: the configuration comes over IPC, progress goes back the same way.
  process.once("message", (message) => {
    const config = message as RunnerConfig;
    const send = (m: RunnerMessage) => process.send?.(m);
    runEstate(config, send)
      .then((running) => {
        const stop = () => {
          running.close().finally(() => process.exit(0));
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        process.once("disconnect", stop);
      })
      .catch((error: unknown) => {
        send({
          kind: "error",
          cloud: config.cloud,
          message: error instanceof Error ? error.message : String(error),
        });
        process.exitCode = 1;
        process.disconnect?.();
      });
  });
}
