// `npm run demo -- <command>`: pokes the running `npm start` the way Azure would, for the README
// walkthrough. add-gpu-pool: a GPU pool appears on aks-weu-batch, and ARM's event for it arrives.
// approve: approves the newest pending plan through its link. status: each policy's last pass.
import fs from "node:fs";
import { request } from "node:https";
import path from "node:path";
import type { RuntimeInfo } from "./start";

const stateRoot = path.resolve(
  process.env.AKS_EGRESS_LOCAL_STATE ?? path.join(__dirname, "..", "..", "..", ".local-state"),
);

function runtime(): RuntimeInfo {
  const file = path.join(stateRoot, "runtime.json");
  if (!fs.existsSync(file))
    throw new Error(
      "npm start is not running (no .local-state/runtime.json): start it in another terminal first.",
    );
  return JSON.parse(fs.readFileSync(file, "utf8")) as RuntimeInfo;
}

/** A call to the emulator's control surface, trusting its CA. */
function emulator(
  cloud: RuntimeInfo["clouds"][number],
  method: string,
  route: string,
  body?: unknown,
): Promise<unknown> {
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

async function addGpuPool(info: RuntimeInfo) {
  const cloud = info.clouds.find((c) => c.cloud === "AzureCloud");
  if (cloud === undefined) throw new Error("the AzureCloud estate is not running");
  const state = (await emulator(cloud, "GET", "/_emulator/state")) as {
    managedClusters: Record<string, unknown>[];
    subnets: { id: string }[];
  };
  const cluster = state.managedClusters.find((c) => String(c.name) === "aks-weu-batch") as
    | { id: string; properties: { agentPoolProfiles: Record<string, unknown>[] } }
    | undefined;
  if (cluster === undefined)
    throw new Error("aks-weu-batch is not in the estate (npm start -- --reset restores the demo)");
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
}

async function approve() {
  const file = path.join(stateRoot, "approval-links.json");
  const links = fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>)
    : {};
  const entries = Object.entries(links);
  if (entries.length === 0) throw new Error("no approval has been requested yet.");
  for (const [policyId, link] of entries) {
    const response = await fetch(link, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ decision: "approve", comment: "approved from npm run demo" }),
    });
    const body = (await response.json()) as Record<string, unknown>;
    console.log(`${policyId.split("/").at(-1)}: HTTP ${response.status} ${JSON.stringify(body)}`);
  }
}

async function status(info: RuntimeInfo) {
  for (const cloud of info.clouds) {
    for (const policyId of cloud.policies) {
      const response = await fetch(`${cloud.url}/api/status?policy=${encodeURIComponent(policyId)}`, {
        headers: { "x-functions-key": info.keys.function },
      });
      const s = (await response.json()) as {
        phase?: string;
        last?: { pass: number; outcome: string; summary: string };
      };
      console.log(
        `${cloud.cloud.padEnd(18)} ${policyId.split("/").at(-1)?.padEnd(22)} ${s.phase ?? "-"}  last pass ${s.last?.pass ?? "-"}: ${s.last?.outcome ?? "-"} ${s.last?.summary ?? ""}`,
      );
    }
  }
}

const commands: Record<string, (info: RuntimeInfo) => Promise<void>> = {
  "add-gpu-pool": addGpuPool,
  approve: () => approve(),
  status,
};
const name = process.argv[2] ?? "";
const command = commands[name];
if (command === undefined) {
  console.error(
    `npm run demo -- <command>: unknown command "${name}". Commands: ${Object.keys(commands).join(", ")}.`,
  );
  process.exitCode = 2;
} else {
  Promise.resolve()
    .then(() => command(runtime()))
    .catch((error: unknown) => {
      console.error(`npm run demo: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    });
}
