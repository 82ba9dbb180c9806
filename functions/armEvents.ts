// Event Grid trigger for ARM events (clusters, agent pools, rule collection groups): validate, narrow,
// and hand over to the reconcilers of the policies concerned.
import type { EventGridEvent, InvocationContext } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import * as df from "durable-functions";
import { appSettings } from "../orchestrations/settings";
import { signalPolicy } from "../orchestrations/signal";
import { EVENTS, logEvent } from "../orchestrations/telemetry";
import { narrowArmEvent } from "./events/arm-event";

export async function armEventsHandler(
  event: EventGridEvent,
  client: DurableClient,
  context: InvocationContext,
): Promise<void> {
  const narrowed = await narrowArmEvent(event, appSettings());
  if (narrowed.kind === "drop") {
    // Logged and dropped: throwing would make Event Grid retry a malformed or irrelevant event for 24 h.
    logEvent(context, EVENTS.eventDropped, { eventId: narrowed.eventId ?? "", reason: narrowed.reason });
    return;
  }
  logEvent(context, EVENTS.eventAccepted, {
    eventId: narrowed.reason.eventId ?? "",
    detail: narrowed.reason.detail,
    policies: narrowed.policies,
  });
  // A failure here is transient (task hub unreachable): it throws, and Event Grid retries.
  for (const policyId of narrowed.policies) await signalPolicy(client, policyId, narrowed.reason);
}

df.app.client.eventGrid("armEvents", { handler: armEventsHandler });
