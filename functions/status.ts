// GET /api/status?policy=ID or ?cluster=ID: the last pass, the drift found, any pending approval.
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import * as df from "durable-functions";
import { readManagedGroup } from "../azure/firewall";
import { clusterIdsIn } from "../orchestrations/activities/gather";
import { connectionFor } from "../orchestrations/activities/handlers";
import { instanceIdFor } from "../orchestrations/instance-id";
import type { ReconcilerStatus } from "../orchestrations/reconciler";
import { appSettings } from "../orchestrations/settings";
import { json, problem } from "./http/responses";

async function policyStatus(client: DurableClient, policyId: string) {
  const instanceId = instanceIdFor(policyId);
  try {
    const status = await client.getStatus(instanceId);
    // Custom status never holds the approval link or token: deciding needs the link.
    const custom = status.customStatus as ReconcilerStatus | undefined;
    return {
      policyId,
      instanceId,
      runtimeStatus: status.runtimeStatus,
      lastUpdated: status.lastUpdatedTime,
      ...custom,
    };
  } catch {
    return { policyId, instanceId, runtimeStatus: "NotStarted" };
  }
}

export async function statusHandler(request: HttpRequest, client: DurableClient): Promise<HttpResponseInit> {
  const settings = appSettings();
  const policy = request.query.get("policy");
  const cluster = request.query.get("cluster");
  if ((policy === null) === (cluster === null))
    return problem(400, "give exactly one of ?policy=<firewall policy ID> or ?cluster=<cluster ID>.");
  if (policy !== null) {
    const known = settings.firewallPolicies.find((p) => p.toLowerCase() === policy.toLowerCase());
    if (known === undefined)
      return problem(
        404,
        `firewall policy ${policy} is not managed by this app. Managed: ${settings.firewallPolicies.join(", ")}`,
      );
    return json(200, await policyStatus(client, known));
  }
  // Which policies serve the cluster is written in their managed groups (each collection names its
  // cluster's ID in every rule): one GET per policy in scope, not a list kept in the status.
  const wanted = (cluster ?? "").trim().toLowerCase();
  const arm = connectionFor(settings);
  const serving = [];
  for (const policyId of settings.firewallPolicies) {
    const group = await readManagedGroup(arm, policyId, settings.groupName);
    if (clusterIdsIn(group).has(wanted)) serving.push(await policyStatus(client, policyId));
  }
  return json(200, { cluster, policies: serving });
}

df.app.client.http("status", {
  route: "status",
  methods: ["GET"],
  authLevel: "function",
  handler: statusHandler,
});
