// `npm run demo -- <command>`: pokes the running `npm start` the way Azure would, for the README
// walkthrough (the commands: demo-commands.ts, or `npm run demo -- --help`).
import fs from "node:fs";
import { request } from "node:https";
import path from "node:path";
import { parseArgs } from "node:util";
import { table } from "../../cli/format/text";
import {
  APPROVAL_LINKS_FILE,
  linkOf,
  onHost,
  type PolicyStatus,
  pendingIn,
  policyName,
  policyStatus,
} from "./approvals";
import { DEMO_COMMANDS, type DemoCommand, demoHelp } from "./demo-commands";
import { DEFAULT_STATE_DIR } from "./options";
import type { RuntimeInfo } from "./start";

type Cloud = RuntimeInfo["clouds"][number];

/** A failure the user can act on: the message says what to do; exit 1. */
class DemoError extends Error {}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** `npm run demo -- …` for this state directory. */
function demoCommand(stateRoot: string, rest: string): string {
  return `npm run demo -- ${stateRoot === DEFAULT_STATE_DIR ? "" : `--state-dir ${stateRoot} `}${rest}`;
}

function runtime(stateRoot: string): RuntimeInfo {
  const file = path.join(stateRoot, "runtime.json");
  const start = `start it in another terminal first (npm start${stateRoot === DEFAULT_STATE_DIR ? "" : ` -- --state-dir ${stateRoot}`})`;
  if (!fs.existsSync(file))
    throw new DemoError(`npm start is not running with state in ${stateRoot}: ${start}.`);
  const info = JSON.parse(fs.readFileSync(file, "utf8")) as RuntimeInfo;
  if (typeof info.pid === "number" && !isAlive(info.pid))
    throw new DemoError(
      `npm start is not running with state in ${stateRoot} (its last run, process ${info.pid}, has stopped): ${start}.`,
    );
  return info;
}

/** A call to the emulator's control surface, trusting its CA. */
function emulator(cloud: Cloud, method: string, route: string, body?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(route, cloud.armEndpoint),
      { method, ca: fs.readFileSync(cloud.caFile), headers: { "Content-Type": "application/json" } },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => {
          text += d.toString();
        });
        res.on("end", () =>
          (res.statusCode ?? 500) < 300
            ? resolve(text ? JSON.parse(text) : undefined)
            : reject(new Error(`${method} ${route}: ${res.statusCode} ${text}`)),
        );
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

async function addGpuPool(info: RuntimeInfo): Promise<undefined> {
  const cloud = info.clouds.find((c) => c.cloud === "AzureCloud");
  if (cloud === undefined) throw new DemoError("the AzureCloud estate is not running");
  const state = (await emulator(cloud, "GET", "/_emulator/state")) as {
    managedClusters: Record<string, unknown>[];
    subnets: { id: string }[];
  };
  const cluster = state.managedClusters.find((c) => String(c.name) === "aks-weu-batch") as
    | { id: string; properties: { agentPoolProfiles: Record<string, unknown>[] } }
    | undefined;
  if (cluster === undefined)
    throw new DemoError("aks-weu-batch is not in the estate (npm start -- --reset restores the demo)");
  const system = cluster.properties.agentPoolProfiles[0] ?? {};
  const subnetId = String(system.vnetSubnetID).replace(/subnets\/[^/]+$/, "subnets/snet-batch-gpu");
  await emulator(cloud, "PUT", "/_emulator/resources", {
    id: subnetId,
    properties: { addressPrefix: "10.10.16.0/22" },
  });
  cluster.properties.agentPoolProfiles = [
    ...cluster.properties.agentPoolProfiles.filter((p) => p.name !== "gpu"),
    { ...system, name: "gpu", vmSize: "Standard_NC6s_v3", mode: "User", vnetSubnetID: subnetId },
  ];
  await emulator(cloud, "PUT", "/_emulator/resources", cluster);
  const poolId = `${cluster.id}/agentPools/gpu`;
  const event = {
    id: `demo-${Date.now()}`,
    topic: `/subscriptions/${cluster.id.split("/")[2]}`,
    subject: poolId,
    eventType: "Microsoft.Resources.ResourceWriteSuccess",
    eventTime: new Date().toISOString(),
    dataVersion: "2",
    metadataVersion: "1",
    data: {
      operationName: "Microsoft.ContainerService/managedClusters/agentPools/write",
      resourceUri: poolId,
      resourceProvider: "Microsoft.ContainerService",
      status: "Succeeded",
      subscriptionId: cluster.id.split("/")[2],
      claims: {
        "http://schemas.microsoft.com/identity/claims/objectidentifier":
          "11111111-2222-4333-8444-555555555555",
        name: "Platform Engineer",
      },
    },
  };
  const response = await fetch(
    `${cloud.url}/runtime/webhooks/eventgrid?functionName=armEvents&code=${info.keys.system.eventgrid_extension}`,
    {
      method: "POST",
      headers: { "aeg-event-type": "Notification", "Content-Type": "application/json" },
      body: JSON.stringify([event]),
    },
  );
  console.log(
    `aks-weu-batch now has a GPU pool (Standard_NC6s_v3 on 10.10.16.0/22); ARM's event for it was delivered (HTTP ${response.status}).`,
  );
  console.log(
    "Watch the npm start window: after the debounce window the pass plans the GPU hosts for that cluster.",
  );
  return undefined;
}

interface PolicyState {
  cloud: Cloud;
  policyId: string;
  status: PolicyStatus;
}

/** Every policy's status, from the app's status API (the same an operator reads). */
async function statuses(info: RuntimeInfo): Promise<PolicyState[]> {
  const all: PolicyState[] = [];
  for (const cloud of info.clouds)
    for (const policyId of cloud.policies)
      all.push({ cloud, policyId, status: await policyStatus(cloud.url, info.keys.function, policyId) });
  return all;
}

/** The policies named (by name or ID), or all; an unknown name is an error. */
function chosen(all: PolicyState[], names: string[]): PolicyState[] {
  if (names.length === 0) return all;
  return names.map((name) => {
    const found = all.find(
      (p) => p.policyId.toLowerCase() === name.toLowerCase() || policyName(p.policyId) === name,
    );
    if (found === undefined)
      throw new DemoError(
        `no firewall policy "${name}" runs here: ${all.map((p) => policyName(p.policyId)).join(", ")}`,
      );
    return found;
  });
}

async function approve(info: RuntimeInfo, stateRoot: string, names: string[]): Promise<number> {
  const waiting = chosen(await statuses(info), names).flatMap((p) => {
    const pending = pendingIn(p.status);
    return pending ? [{ ...p, pending }] : [];
  });
  if (waiting.length === 0)
    throw new DemoError(
      `nothing is pending: no policy waits for approval (${demoCommand(stateRoot, "status")} shows each policy's phase).`,
    );
  let failed = 0;
  for (const { cloud, policyId, pending } of waiting) {
    const name = policyName(policyId);
    // Only the link of the approval the status says is pending, on the host as it runs now.
    const link = linkOf(stateRoot, policyId, pending.approvalId);
    if (link === undefined) {
      console.error(
        `${name}: approval ${pending.approvalId} is pending, but ${path.join(stateRoot, APPROVAL_LINKS_FILE)} has no link for it (npm start's copy of what the notification topic delivered); ${demoCommand(stateRoot, `ask-again ${name}`)} asks again, with a new link.`,
      );
      failed++;
      continue;
    }
    const response = await fetch(onHost(link, cloud.url), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ decision: "approve", comment: "approved from npm run demo" }),
    });
    const text = await response.text();
    console.log(`${name}: approval ${pending.approvalId}: HTTP ${response.status} ${text.trim()}`);
    if (!response.ok) failed++;
  }
  return failed > 0 ? 1 : 0;
}

/**
 * A pending approval whose link is lost (the app sends a link once, to the topic): its reconciler is
 * ended through the Durable API (the old link then answers 410) and a pass started, which plans the
 * same change and asks again, with a new link. The removal budget survives (signal.ts restarts a
 * terminated reconciler with its records); the pass count starts again at 1.
 */
async function askAgain(info: RuntimeInfo, names: string[]): Promise<undefined> {
  const waiting = chosen(await statuses(info), names).filter((p) => pendingIn(p.status) !== undefined);
  if (waiting.length === 0)
    throw new DemoError(
      "nothing is pending: no policy waits for approval, so there is nothing to ask again.",
    );
  for (const { cloud, policyId, status } of waiting) {
    const name = policyName(policyId);
    const instance = `${cloud.url}/runtime/webhooks/durabletask/instances/${encodeURIComponent(status.instanceId ?? "")}`;
    const code = `code=${encodeURIComponent(info.keys.system.durabletask_extension)}`;
    const reason = encodeURIComponent(
      `npm run demo -- ask-again: the link of approval ${status.pendingApproval?.approvalId} was lost`,
    );
    const ended = await fetch(`${instance}/terminate?reason=${reason}&${code}`, { method: "POST" });
    if (ended.status !== 202 && ended.status !== 410)
      throw new Error(`${name}: ending its reconciler: HTTP ${ended.status} ${await ended.text()}`);
    for (let tries = 0; ; tries++) {
      const now = (await (await fetch(`${instance}?${code}`)).json()) as { runtimeStatus?: string };
      if (now.runtimeStatus === "Terminated") break;
      if (tries > 100) throw new Error(`${name}: its reconciler did not end (still ${now.runtimeStatus})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const started = await fetch(`${cloud.url}/api/reconcile`, {
      method: "POST",
      headers: { "x-functions-key": info.keys.function, "Content-Type": "application/json" },
      body: JSON.stringify({ policyId }),
    });
    if (started.status !== 202)
      throw new Error(`${name}: starting a pass: HTTP ${started.status} ${await started.text()}`);
    console.log(
      `${name}: approval ${status.pendingApproval?.approvalId} withdrawn (its link, wherever it is, now answers 410), and a pass started: it asks again, and its new link appears in the npm start window.`,
    );
  }
  return undefined;
}

/** "2026-11-29 21:07Z". */
function when(iso: string): string {
  return iso.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "Z");
}

async function status(info: RuntimeInfo): Promise<undefined> {
  const rows = (await statuses(info)).map(({ cloud, policyId, status: s }) => {
    const pending = pendingIn(s);
    const last = s.last;
    // The summary says what happened ("applied 3 change(s) …", "no drift"): the outcome's word only
    // where the summary does not say it already.
    const said = last?.summary.toLowerCase().startsWith(last.outcome.replace("-", " "));
    return [
      cloud.cloud,
      policyName(policyId),
      // A terminated or failed reconciler keeps its last custom status: its runtime status says more.
      ["Terminated", "Failed", "Completed", "NotStarted"].includes(s.runtimeStatus ?? "")
        ? (s.runtimeStatus ?? "-")
        : (s.phase ?? s.runtimeStatus ?? "-"),
      last
        ? `${last.pass} (${when(last.completedAt)}): ${said ? last.summary : `${last.outcome}, ${last.summary}`}`
        : "-",
      pending ? `${pending.approvalId} until ${when(pending.expiresAt)}` : "-",
    ];
  });
  console.log(
    table(["Cloud", "Firewall policy", "Phase", "Last pass", "Pending approval"], rows, [19, 22, 19, 42, 38]),
  );
  return undefined;
}

function parseDemoArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    options: { "state-dir": { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseDemoArgs>;
  try {
    parsed = parseDemoArgs(argv);
  } catch (error) {
    console.error(
      `npm run demo: ${error instanceof Error ? error.message : String(error)}. See npm run demo -- --help`,
    );
    return 2;
  }
  if (parsed.values.help) {
    console.log(demoHelp());
    return 0;
  }
  const [name = "", ...rest] = parsed.positionals;
  if (!(name in DEMO_COMMANDS)) {
    console.error(
      `npm run demo -- <command>: unknown command "${name}". Commands: ${Object.keys(DEMO_COMMANDS).join(", ")} (npm run demo -- --help).`,
    );
    return 2;
  }
  const stateRoot = path.resolve(
    parsed.values["state-dir"] ?? process.env.AKS_EGRESS_LOCAL_STATE ?? DEFAULT_STATE_DIR,
  );
  const commands: Record<DemoCommand, (info: RuntimeInfo) => Promise<number | undefined>> = {
    status,
    "add-gpu-pool": addGpuPool,
    approve: (info) => approve(info, stateRoot, rest),
    "ask-again": (info) => askAgain(info, rest),
  };
  try {
    return (await commands[name as DemoCommand](runtime(stateRoot))) ?? 0;
  } catch (error) {
    console.error(`npm run demo: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
