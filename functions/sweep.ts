// The periodic sweep: every policy in scope gets a pass, so drift no event announced is found too.
import type { InvocationContext, Timer } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import * as df from "durable-functions";
import { appSettings } from "../orchestrations/settings";
import { signalPolicy } from "../orchestrations/signal";

export async function sweepHandler(
  _timer: Timer,
  client: DurableClient,
  context: InvocationContext,
): Promise<void> {
  const settings = appSettings();
  for (const policyId of settings.firewallPolicies) {
    const how = await signalPolicy(client, policyId, { source: "sweep", detail: "periodic sweep" });
    context.log(`sweep: ${policyId} ${how}`);
  }
}

// The schedule is the app setting AKS_EGRESS_SWEEP_SCHEDULE (a binding expression, resolved by the host).
df.app.client.timer("sweep", { schedule: "%AKS_EGRESS_SWEEP_SCHEDULE%", handler: sweepHandler });
