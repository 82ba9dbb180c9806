// The catalog watch: reads Microsoft's AKS outbound-rules page on a schedule and reports when its
// requirements differ from the catalog version in use (orchestrations/catalog-watch.ts). With
// adoption "approve", each policy in scope is then signalled to plan with the page and ask a person.
import type { InvocationContext, Timer } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import * as df from "durable-functions";
import { watchCatalog } from "../orchestrations/catalog-watch";
import { appSettings } from "../orchestrations/settings";
import { signalPolicy } from "../orchestrations/signal";

export async function catalogWatchHandler(
  _timer: Timer,
  client: DurableClient,
  context: InvocationContext,
): Promise<void> {
  const settings = appSettings();
  const outcome = await watchCatalog(settings, context);
  context.log(`catalog watch: ${JSON.stringify(outcome)}`);
  if (outcome.outcome !== "changed" || !outcome.offered) return;
  for (const policyId of settings.firewallPolicies) {
    const how = await signalPolicy(client, policyId, {
      source: "catalog",
      detail: `Microsoft's page ${outcome.importedAs} is offered for adoption (${outcome.changes} requirement change(s) from catalog ${settings.catalogVersion})`,
    });
    context.log(`catalog watch: ${policyId} ${how}`);
  }
}

// The schedule is the app setting AKS_EGRESS_CATALOG_WATCH_SCHEDULE (a binding expression, resolved by
// the host, like the sweep's): it has to be set (infra sets 0 30 5 * * *, daily).
df.app.client.timer("catalogWatch", {
  schedule: "%AKS_EGRESS_CATALOG_WATCH_SCHEDULE%",
  handler: catalogWatchHandler,
});
