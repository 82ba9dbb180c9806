// POST /api/reconcile {policyId?}: run a pass now, for one policy or all of them (function key).
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import * as df from "durable-functions";
import { z } from "zod";
import { appSettings } from "../orchestrations/settings";
import { signalPolicy } from "../orchestrations/signal";
import { json, problem } from "./http/responses";

const body = z.object({ policyId: z.string().optional() }).strict();

export async function reconcileHandler(
  request: HttpRequest,
  client: DurableClient,
): Promise<HttpResponseInit> {
  const settings = appSettings();
  const text = await request.text();
  let parsed: z.infer<typeof body>;
  try {
    parsed = body.parse(text.trim() === "" ? {} : JSON.parse(text));
  } catch {
    return problem(400, 'bad body: send {} for every policy, or {"policyId": "<firewall policy ID>"}.');
  }
  const policies =
    parsed.policyId === undefined
      ? settings.firewallPolicies
      : settings.firewallPolicies.filter((p) => p.toLowerCase() === parsed.policyId?.toLowerCase());
  if (policies.length === 0)
    return problem(
      404,
      `firewall policy ${parsed.policyId} is not managed by this app. Managed: ${settings.firewallPolicies.join(", ")}`,
    );
  const results = [];
  for (const policyId of policies)
    results.push({
      policyId,
      handedOver: await signalPolicy(client, policyId, { source: "manual", detail: "POST /api/reconcile" }),
    });
  return json(202, { reconciling: results });
}

df.app.client.http("reconcile", {
  route: "reconcile",
  methods: ["POST"],
  authLevel: "function",
  handler: reconcileHandler,
});
