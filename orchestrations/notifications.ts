// The notification topic: an Event Grid topic (CloudEvents schema) that approval requests and catalog
// changes are published to. Published with the topic key when one is set, else with the app's identity.
import fs from "node:fs";
import type { SendCloudEventInput } from "@azure/eventgrid";
import { isLocalEndpoint } from "../azure/clients";
import { coreAuth, eventGrid, identity } from "../azure/sdk";
import type { AppSettings } from "./settings";

export const CLOUD_EVENT_SOURCE = "/aks-egress-guard";

/** Sends the events to the notification topic; false (nothing sent) when no topic is set. */
export async function publishNotifications(
  settings: AppSettings,
  events: SendCloudEventInput<unknown>[],
): Promise<boolean> {
  if (settings.notificationTopicEndpoint === undefined) return false;
  const credential = settings.notificationTopicKey
    ? new (coreAuth().AzureKeyCredential)(settings.notificationTopicKey)
    : new (identity().DefaultAzureCredential)();
  const local = isLocalEndpoint(settings.notificationTopicEndpoint);
  const ca = local && settings.armCaFile ? fs.readFileSync(settings.armCaFile, "utf8") : undefined;
  const publisher = new (eventGrid().EventGridPublisherClient)(
    settings.notificationTopicEndpoint,
    "CloudEvent",
    credential,
    {
      // The local stand-in for the topic is served by the ARM emulator, under its CA.
      ...(ca ? { tlsOptions: { ca } } : {}),
    },
  );
  await publisher.send(events);
  return true;
}
