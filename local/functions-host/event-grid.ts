// The Event Grid trigger's webhook, as the Event Grid extension serves it at
// `/runtime/webhooks/eventgrid?functionName=NAME` (HttpRequestProcessor and
// EventGridExtensionConfigProvider in Microsoft.Azure.WebJobs.Extensions.EventGrid):
// - `aeg-event-type: SubscriptionValidation`: answers 200 `{"validationResponse": code}`, the code
//   taken from `[0].data.validationCode` (Event Grid schema, an array) or from the CloudEvent's `data`
//   (an object; its data may be JSON text, "double-encoded");
// - `aeg-event-type: Notification`: an array body is a batch of Event Grid events, an object body is
//   one CloudEvent; each event is one invocation (all run, concurrently), the event passed to the
//   handler as received (its own JSON text, never re-serialized); 202 when every invocation
//   succeeded, 500 with the first error's message otherwise (so Event Grid delivers again);
// - `aeg-event-type: Unsubscribe`: 202; any other or no header: 400.
// An unknown function name answers 404 "cannot find function: 'NAME'".
//
// A malformed delivery never gets a 5xx here (Event Grid would retry a 5xx for up to 24 h). Event
// Grid does not retry 400 (Bad Request) or 413 (Request Entity Too Large) from a webhook
// (learn.microsoft.com/azure/event-grid/delivery-and-retry), so:
// - a body over MAX_EVENT_GRID_BODY_BYTES, or a batch of more than MAX_EVENTS_PER_DELIVERY events,
//   answers 413: Event Grid never delivers more than 1 MB (its event size and batch size limit) nor
//   more than 5,000 events (maxEventsPerBatch) at once, so such a request is not Event Grid's;
// - a body that is not JSON, or JSON that is neither an object nor an array, answers 400 (the real
//   extension throws here, which its host answers 500; Event Grid itself never sends such a body);
// - anything else that is JSON is handed to the function event by event, however odd (a number, a
//   null, an object nested 10,000 deep): the function decides what it drops. No work here recurses
//   on the body's nesting (JSON.parse is iterative in V8; the split below is one linear scan).

/** Event Grid's limit for one event and for one delivered batch: 1 MB (taken here as 1 MiB). */
export const MAX_EVENT_GRID_BODY_BYTES = 1024 * 1024;
/** Event Grid's largest batch (`maxEventsPerBatch` is at most 5,000). */
export const MAX_EVENTS_PER_DELIVERY = 5000;

export type EventGridRequest =
  | { kind: "validation"; code: string }
  /** Each event's own JSON text, as it appears in the body. */
  | { kind: "notification"; events: string[] }
  | { kind: "unsubscribe" }
  | { kind: "bad"; message: string }
  | { kind: "tooLarge"; message: string };

const NOT_OBJECT_OR_ARRAY = "The request content should be parseable into a JSON object or array.";

/** A validation code is a string (a number or boolean is taken as its text); anything else is none. */
function codeText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

function validationCodeOf(body: unknown): string | undefined {
  if (Array.isArray(body)) {
    const first: unknown = body[0];
    if (typeof first !== "object" || first === null) return undefined;
    const data: unknown = (first as { data?: unknown }).data;
    if (typeof data !== "object" || data === null) return undefined;
    return codeText((data as { validationCode?: unknown }).validationCode);
  }
  if (typeof body === "object" && body !== null) {
    let data = (body as { data?: unknown }).data;
    if (typeof data === "string") {
      try {
        data = JSON.parse(data);
      } catch {
        return undefined;
      }
    }
    if (typeof data !== "object" || data === null) return undefined;
    return codeText((data as { validationCode?: unknown }).validationCode);
  }
  return undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * The JSON text of each element of a top-level JSON array, in one linear pass that keeps only a
 * depth counter (no recursion); undefined when there are more than `limit` elements. `text` must be
 * valid JSON whose top level is an array (JSON.parse has accepted it).
 */
export function splitJsonArray(text: string, limit: number): string[] | undefined {
  const elements: string[] = [];
  const open = text.indexOf("[");
  let depth = 0;
  let inString = false;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) depth++;
    else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
      if (depth === 0) {
        const last = text.slice(start, i).trim();
        if (last !== "") elements.push(last);
        break;
      }
    } else if (c === COMMA && depth === 1) {
      elements.push(text.slice(start, i).trim());
      start = i + 1;
    }
    if (elements.length > limit) return undefined;
  }
  return elements.length > limit ? undefined : elements;
}

export function classifyEventGridRequest(eventType: string | undefined, bodyText: string): EventGridRequest {
  const type = (eventType ?? "").toLowerCase();
  if (type !== "subscriptionvalidation" && type !== "notification") {
    return type === "unsubscribe" ? { kind: "unsubscribe" } : { kind: "bad", message: "" };
  }
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return { kind: "bad", message: NOT_OBJECT_OR_ARRAY };
  }
  if (typeof body !== "object" || body === null) return { kind: "bad", message: NOT_OBJECT_OR_ARRAY };
  if (type === "subscriptionvalidation") {
    const code = validationCodeOf(body);
    return code === undefined
      ? { kind: "bad", message: "The subscription validation request carries no data.validationCode." }
      : { kind: "validation", code };
  }
  if (!Array.isArray(body)) return { kind: "notification", events: [bodyText.trim()] };
  const events =
    body.length > MAX_EVENTS_PER_DELIVERY ? undefined : splitJsonArray(bodyText, MAX_EVENTS_PER_DELIVERY);
  return events === undefined
    ? {
        kind: "tooLarge",
        message: `A delivery carries at most ${MAX_EVENTS_PER_DELIVERY} events; this one has ${body.length}.`,
      }
    : { kind: "notification", events };
}
