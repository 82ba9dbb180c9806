// Event Grid trigger for ARM events (clusters, agent pools, rule collection groups, the network):
// validate, narrow, and hand over to the reconcilers of the policies concerned.
import type { EventGridEvent, InvocationContext } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import * as df from "durable-functions";
import { networkReader } from "../azure/event-target";
import { connectionFor } from "../orchestrations/activities/handlers";
import { appSettings } from "../orchestrations/settings";
import { egressIndexView, signalPolicy } from "../orchestrations/signal";
import { EVENTS, logEvent } from "../orchestrations/telemetry";
import { resourceKey } from "../topology";
import { type EventReaders, narrowArmEvent } from "./events/arm-event";

/** The real readers: each reconciler's egress index from the task hub, the network from ARM (Reader). */
export function eventReaders(client: DurableClient): EventReaders {
  return {
    async indexes(policyIds) {
      const views = await Promise.all(policyIds.map((p) => egressIndexView(client, p)));
      return new Map(policyIds.map((p, i) => [resourceKey(p), views[i] ?? { missing: "not read" }]));
    },
    network: networkReader(() => connectionFor(appSettings())),
  };
}

export async function armEventsHandler(
  event: EventGridEvent,
  client: DurableClient,
  context: InvocationContext,
): Promise<void> {
  const narrowed = await narrowArmEvent(event, appSettings(), eventReaders(client));
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
