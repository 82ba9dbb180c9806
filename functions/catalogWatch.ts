// The catalog watch: reads Microsoft's AKS outbound-rules page on a schedule and reports when its
// requirements differ from the catalog version in use (orchestrations/catalog-watch.ts). Notify only.
import { app, type InvocationContext, type Timer } from "@azure/functions";
import { watchCatalog } from "../orchestrations/catalog-watch";
import { appSettings } from "../orchestrations/settings";

export async function catalogWatchHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const outcome = await watchCatalog(appSettings(), context);
  context.log(`catalog watch: ${JSON.stringify(outcome)}`);
}

// The schedule is the app setting AKS_EGRESS_CATALOG_WATCH_SCHEDULE (a binding expression, resolved by
// the host, like the sweep's): it has to be set (infra sets 0 30 5 * * *, daily).
app.timer("catalogWatch", {
  schedule: "%AKS_EGRESS_CATALOG_WATCH_SCHEDULE%",
  handler: catalogWatchHandler,
});
