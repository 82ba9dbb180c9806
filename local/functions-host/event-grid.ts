// The Event Grid trigger's webhook, as the Event Grid extension serves it at
// `/runtime/webhooks/eventgrid?functionName=NAME` (HttpRequestProcessor and
// EventGridExtensionConfigProvider in Microsoft.Azure.WebJobs.Extensions.EventGrid):
// - `aeg-event-type: SubscriptionValidation`: answers 200 `{"validationResponse": code}`, the code
//   taken from `[0].data.validationCode` (Event Grid schema, an array) or from the CloudEvent's `data`
//   (an object; its data may be JSON text, "double-encoded");
// - `aeg-event-type: Notification`: an array body is a batch of Event Grid events, an object body is
//   one CloudEvent; each event is one invocation (all run, concurrently), the event object passed to
//   the handler as received; 202 when every invocation succeeded, 500 with the first error's message
//   otherwise (so Event Grid delivers again);
// - `aeg-event-type: Unsubscribe`: 202; any other or no header: 400.
// An unknown function name answers 404 "cannot find function: 'NAME'".

export type EventGridRequest =
  | { kind: "validation"; code: string }
  | { kind: "notification"; events: unknown[] }
  | { kind: "unsubscribe" }
  | { kind: "bad"; message: string };

function validationCodeOf(body: unknown): string | undefined {
  if (Array.isArray(body)) {
    const data = (body[0] as { data?: { validationCode?: unknown } } | undefined)?.data;
    return data?.validationCode === undefined ? undefined : String(data.validationCode);
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
    const code = (data as { validationCode?: unknown } | undefined)?.validationCode;
    return code === undefined ? undefined : String(code);
  }
  return undefined;
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
    return { kind: "bad", message: "The request content should be parseable into a JSON object or array." };
  }
  if (typeof body !== "object" || body === null) {
    return { kind: "bad", message: "The request content should be parseable into a JSON object or array." };
  }
  if (type === "subscriptionvalidation") {
    const code = validationCodeOf(body);
    return code === undefined
      ? { kind: "bad", message: "The subscription validation request carries no data.validationCode." }
      : { kind: "validation", code };
  }
  return { kind: "notification", events: Array.isArray(body) ? body : [body] };
}
