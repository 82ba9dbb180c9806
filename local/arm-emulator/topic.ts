// A stand-in for an Event Grid topic (CloudEvents input schema), served beside the emulated ARM so
// that the app's approval notifications have somewhere to go locally: the app publishes there with
// the real EventGridPublisherClient, and tests and `npm start` read what arrived.
import type { IncomingHttpHeaders } from "node:http";
import { type ArmReply, armError } from "./replies";
import type { JsonValue } from "./types";

/** The topic's path; its endpoint is `${emulator.endpoint}${TOPIC_PATH}`, as Event Grid's `…/api/events`. */
export const TOPIC_PATH = "/_emulator/topics/notifications/api/events";

export interface ReceivedCloudEvent {
  id: string;
  type: string;
  source: string;
  subject?: string;
  time?: string;
  data?: JsonValue;
}

/** Event Grid takes at most 1 MB per publish (its documented limit), as an array of events. */
export class NotificationTopic {
  private received: ReceivedCloudEvent[] = [];

  publish(headers: IncomingHttpHeaders, body: JsonValue | undefined): ArmReply {
    const keyed =
      typeof headers["aeg-sas-key"] === "string" || /^Bearer\s+\S+/i.test(headers.authorization ?? "");
    if (!keyed) return armError(401, "Unauthorized", "an aeg-sas-key header or a bearer token is required");
    if (!Array.isArray(body)) return armError(400, "BadRequest", "expected a JSON array of CloudEvents");
    const events: ReceivedCloudEvent[] = [];
    for (const item of body) {
      if (typeof item !== "object" || item === null || Array.isArray(item))
        return armError(400, "BadRequest", "each event must be a JSON object");
      const { id, type, source, subject, time, data, specversion } = item;
      if (
        specversion !== "1.0" ||
        typeof id !== "string" ||
        typeof type !== "string" ||
        typeof source !== "string"
      )
        return armError(400, "BadRequest", "each event needs specversion 1.0, id, type and source");
      events.push({
        id,
        type,
        source,
        ...(typeof subject === "string" ? { subject } : {}),
        ...(typeof time === "string" ? { time } : {}),
        ...(data !== undefined ? { data } : {}),
      });
    }
    this.received.push(...events);
    return { status: 200 };
  }

  events(): ReceivedCloudEvent[] {
    return structuredClone(this.received);
  }

  clear(): void {
    this.received = [];
  }
}
