// GET /api/status?policy=ID or ?cluster=ID: the last pass, the drift found, any pending approval.
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import * as df from "durable-functions";
import type { ArmConnection } from "../azure/clients";
import { readCluster, readNodeSubnets } from "../azure/clusters";
import { readManagedGroup } from "../azure/firewall";
import { parseResourceId } from "../azure/resource-id";
import { clusterHeldBy } from "../orchestrations/activities/gather";
import { connectionFor } from "../orchestrations/activities/handlers";
import { instanceIdFor } from "../orchestrations/instance-id";
import { appSettings } from "../orchestrations/settings";
import { reconcilerState } from "./http/reconciler-status";
import { json, problem } from "./http/responses";

async function policyStatus(client: DurableClient, policyId: string) {
  const instanceId = instanceIdFor(policyId);
  // Settled as the estate and approval pages read it: an ended instance offers no approval.
  const state = await reconcilerState(client, instanceId);
  if (state.kind === "not-started") return { policyId, instanceId, runtimeStatus: "NotStarted" };
  if (state.kind === "unreadable")
    return {
      policyId,
      instanceId,
      runtimeStatus: "Unknown",
      error: `its status could not be read: ${state.error}`,
    };
  // Custom status never holds the approval link or token: deciding needs the link.
  return {
    policyId,
    instanceId,
    runtimeStatus: state.runtimeStatus,
    ...(state.lastUpdated ? { lastUpdated: state.lastUpdated } : {}),
    ...state.status,
  };
}

/** The cluster's node subnets; none when it is gone, malformed or unreadable (then only its ID can match). */
async function clusterCidrs(arm: ArmConnection, clusterId: string): Promise<string[]> {
  try {
    parseResourceId(clusterId);
    const facts = await readCluster(arm, clusterId);
    return facts === undefined ? [] : (await readNodeSubnets(arm, facts)).cidrs;
  } catch {
    return [];
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
  // Which policies serve the cluster is written in their managed groups: a per-cluster group names
  // the cluster's ID in every rule, a shared one has the cluster's node subnets among its sources.
  // The cluster and its subnets are read once, then one GET per policy in scope.
  const wanted = (cluster ?? "").trim().toLowerCase();
  const arm = connectionFor(settings);
  const cidrs = await clusterCidrs(arm, wanted);
  const serving = [];
  for (const policyId of settings.firewallPolicies) {
    const group = await readManagedGroup(arm, policyId, settings.groupName);
    if (clusterHeldBy(group, wanted, cidrs)) serving.push(await policyStatus(client, policyId));
  }
  return json(200, { cluster, policies: serving });
}

df.app.client.http("status", {
  route: "status",
  methods: ["GET"],
  authLevel: "function",
  handler: statusHandler,
});
